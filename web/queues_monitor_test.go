package web_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// monitorCall sends an asynqmon API call as its page's script would:
// from this site (Origin) unless origin says otherwise.
func (w *webClient) monitorCall(method, path, origin string) (*http.Response, string) {
	w.a.t.Helper()
	req, _ := http.NewRequest(method, w.a.url+path, nil)
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	return w.send(req)
}

// TestQueueMonitorRoles: admins get the Asynq monitor read-write,
// auditors read-only, agents a 403, and nobody signed in the sign-in page.
func TestQueueMonitorRoles(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Open(t))
	if _, err := a.queue.Client.Enqueue(asynq.NewTask("test:noop", nil), asynq.Queue("monitor_test")); err != nil {
		t.Fatal(err)
	}
	signedIn := func(role staff.Role, name string) *webClient {
		_, email := a.staffMember(role, name)
		w := a.newWebClient()
		w.login(email, testPassword)
		return w
	}

	anon := a.newWebClient()
	if resp, _ := anon.get("/admin/queues"); resp.StatusCode != http.StatusSeeOther ||
		!strings.HasPrefix(resp.Header.Get("Location"), "/login?next=%2Fadmin%2Fqueues") {
		t.Fatalf("anonymous: %d %q, want 303 to the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := anon.monitorCall(http.MethodPost, "/admin/queues/api/queues/monitor_test:pause", a.url); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous pause: %d, want 401", resp.StatusCode)
	}

	agent := signedIn(staff.Agent, "monitor-agent")
	for _, path := range []string{"/admin/queues", "/admin/queues/api/queues"} {
		if resp, _ := agent.get(path); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("agent %s: %d, want 403", path, resp.StatusCode)
		}
	}

	if _, body := agent.get("/tickets"); strings.Contains(body, `id="nav-queues"`) {
		t.Error("an agent's navigation links to the queues")
	}
	admin := signedIn(staff.Admin, "monitor-admin")
	if _, body := admin.get("/tickets"); !strings.Contains(body, `href="/admin/queues"`) {
		t.Error("an admin's navigation lacks the queues")
	}
	resp, body := admin.get("/admin/queues")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Asynq") || !strings.Contains(body, `window.FLAG_READ_ONLY="false"`) {
		t.Fatalf("admin page: %d\n%.300s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self' 'sha256-") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "googleapis") {
		t.Errorf("monitor CSP = %q", csp)
	}
	resp, body = admin.get("/admin/queues/api/queues")
	var listed struct {
		Queues []struct {
			Queue   string `json:"queue"`
			Pending int    `json:"pending"`
		} `json:"queues"`
	}
	if err := json.Unmarshal([]byte(body), &listed); resp.StatusCode != http.StatusOK || err != nil {
		t.Fatalf("admin queue list: %d %v\n%s", resp.StatusCode, err, body)
	}
	found := false
	for _, q := range listed.Queues {
		found = found || q.Queue == "monitor_test" && q.Pending == 1
	}
	if !found {
		t.Fatalf("queue list lacks monitor_test with 1 pending task: %s", body)
	}
	if resp, _ := admin.monitorCall(http.MethodPost, "/admin/queues/api/queues/monitor_test:pause", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin pause from another site: %d, want 403", resp.StatusCode)
	}
	if resp, body := admin.monitorCall(http.MethodPost, "/admin/queues/api/queues/monitor_test:pause", a.url); resp.StatusCode >= 300 {
		t.Fatalf("admin pause: %d %s", resp.StatusCode, body)
	}
	if info, err := a.queue.Inspector.GetQueueInfo("monitor_test"); err != nil || !info.Paused {
		t.Fatalf("queue after the admin's pause: %+v %v", info, err)
	}

	auditor := signedIn(staff.Auditor, "monitor-auditor")
	resp, body = auditor.get("/admin/queues")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `window.FLAG_READ_ONLY="true"`) {
		t.Fatalf("auditor page: %d\n%.300s", resp.StatusCode, body)
	}
	if resp, _ := auditor.get("/admin/queues/api/queues"); resp.StatusCode != http.StatusOK {
		t.Fatalf("auditor queue list: %d", resp.StatusCode)
	}
	if resp, _ := auditor.monitorCall(http.MethodPost, "/admin/queues/api/queues/monitor_test:resume", a.url); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("auditor resume: %d, want 405 (read-only)", resp.StatusCode)
	}
	if resp, _ := auditor.monitorCall(http.MethodDelete, "/admin/queues/api/queues/monitor_test/pending_tasks:delete_all", a.url); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("auditor delete: %d, want 405 (read-only)", resp.StatusCode)
	}
	if info, _ := a.queue.Inspector.GetQueueInfo("monitor_test"); !info.Paused || info.Pending != 1 {
		t.Fatalf("queue changed by a read-only member: %+v", info)
	}
}
