package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

var agreementHash = regexp.MustCompile(`name="hash" value="([0-9a-f]{64})"`)

// In the dashboard a member without a current acceptance is sent to the
// agreement; after accepting, the customers open; a new version blocks.
func TestDashboardAgreementGate(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		_, adminEmail := a.staffMember(staff.Admin, "dpo")
		_, agentEmail := a.staffMember(staff.Agent, "agent")
		admin, agent := a.newWebClient(), a.newWebClient()
		admin.login(adminEmail, testPassword)
		agent.login(agentEmail, testPassword)

		if resp, _ := agent.get("/customers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("no agreement yet: %d", resp.StatusCode)
		}
		admin.get("/governance")
		if resp, body := admin.post("/governance/agreement", url.Values{"text_zh": {"我承诺保密。"}, "text_en": {"I keep it confidential."}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("publish: %d\n%s", resp.StatusCode, body)
		}
		resp, body := agent.get("/customers")
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="unblock" href="/agreement"`) {
			t.Fatalf("before accepting: %d\n%s", resp.StatusCode, body)
		}
		_, body = agent.get("/agreement")
		m := agreementHash.FindStringSubmatch(body)
		if m == nil || !strings.Contains(body, "我承诺保密。") {
			t.Fatalf("agreement page:\n%s", body)
		}
		if resp, _ := agent.post("/agreement", url.Values{"hash": {m[1]}, "csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("accept without the CSRF token: %d", resp.StatusCode)
		}
		if resp, body := agent.post("/agreement", url.Values{"hash": {m[1]}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("accept: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := agent.get("/customers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("after accepting: %d", resp.StatusCode)
		}
		admin.get("/governance")
		admin.post("/governance/agreement", url.Values{"text_zh": {"第二版。"}, "text_en": {"Version two."}})
		if resp, _ := agent.get("/customers"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("after a new version: %d", resp.StatusCode)
		}
		if resp, _ := agent.get("/governance"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("agent on the governance page: %d", resp.StatusCode)
		}
	})
}

func TestDashboardAccessReview(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, adminEmail := a.staffMember(staff.Admin, "dpo")
	_, auditorEmail := a.staffMember(staff.Auditor, "auditor")
	agentMember, _ := a.staffMember(staff.Agent, "agent")
	admin, auditor := a.newWebClient(), a.newWebClient()
	admin.login(adminEmail, testPassword)
	auditor.login(auditorEmail, testPassword)
	admin.get("/governance")
	if resp, _ := admin.post("/governance/reviews", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start review: %d", resp.StatusCode)
	}
	_, body := admin.get("/governance")
	m := regexp.MustCompile(`/governance/reviews/([0-9A-Z]+)/items/` + agentMember.ID).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no decision form for the agent:\n%s", body)
	}
	if resp, _ := admin.post(m[0], url.Values{"decision": {"revoked"}, "note": {"left"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	if got, _ := a.staff.FindMemberByID(context.Background(), agentMember.ID); got.DisabledAt == nil {
		t.Error("the revoked agent is still enabled")
	}
	if resp, body := auditor.get("/access-report"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="access-report"`) {
		t.Errorf("auditor's access report: %d", resp.StatusCode)
	}
	if resp, body := auditor.get("/access-report.csv"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "seq,at,actor") {
		t.Errorf("csv: %d %q", resp.StatusCode, body[:min(len(body), 40)])
	}
	if resp, _ := auditor.get("/access-report?from=yesterday"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad date: %d", resp.StatusCode)
	}
}

// The agreement flow in Chromium: blocked, accept, in.
func TestDashboardAgreementInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, email := a.staffMember(staff.Agent, "agent")
	if _, err := a.governance.PublishAgreement(context.Background(), "我承诺对客户信息保密。", "I keep customer data confidential.", "staff:dpo"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, desktopWidth, desktopHeight)
	do := steps(t, b)
	do("sign in", signIn(a.url, email)...)
	do("customers blocked", chromedp.Navigate(a.url+"/customers"), chromedp.WaitVisible("#unblock"))
	screenshot(t, b, "1-blocked")
	do("open agreement", chromedp.Click("#unblock"), chromedp.WaitVisible("#accept-agreement"))
	screenshot(t, b, "2-agreement")
	do("accept", chromedp.Click("#accept-agreement"), chromedp.WaitVisible("#agreement-status"))
	do("customers open", chromedp.Navigate(a.url+"/customers"), chromedp.WaitVisible("#search"))
	text, err := chromedp.Run(b, chromedp.Text("main"))
	if err != nil || strings.Contains(text, "Accept the current confidentiality agreement") {
		t.Fatalf("customers still blocked: %v\n%s", err, text)
	}
	screenshot(t, b, "3-customers")
}
