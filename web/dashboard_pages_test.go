package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

func TestDashboardRoles(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	admin := a.tokenFor(staff.Admin)
	a.importAndWait(admin, []byte(sampleCSV))
	list, _, _ := a.customers.FindCustomers(context.Background(), customers.Filter{})
	id := list[0].ID
	for _, c := range []struct {
		role   staff.Role
		method string
		path   string
		want   int
	}{
		{staff.Auditor, http.MethodGet, "/staff", http.StatusForbidden},
		{staff.Agent, http.MethodGet, "/staff", http.StatusForbidden},
		{staff.Admin, http.MethodGet, "/staff", http.StatusOK},
		{staff.Agent, http.MethodGet, "/campaigns/new", http.StatusForbidden},
		{staff.Marketer, http.MethodGet, "/campaigns/new", http.StatusOK},
		{staff.Marketer, http.MethodPost, "/customers/" + id + "/reveal", http.StatusForbidden},
		{staff.Auditor, http.MethodPost, "/customers/" + id + "/reveal", http.StatusForbidden},
		{staff.Agent, http.MethodGet, "/devbox", http.StatusForbidden},
		{staff.Auditor, http.MethodPost, "/campaigns/x/start", http.StatusForbidden},
		{staff.Auditor, http.MethodPost, "/staff", http.StatusForbidden},
		{staff.Auditor, http.MethodGet, "/customers/" + id, http.StatusOK},
	} {
		_, email := a.staffMember(c.role, strings.ReplaceAll(string(c.role)+c.method+c.path, "/", "-"))
		w := a.newWebClient()
		w.login(email, testPassword)
		w.get("/account")
		var resp *http.Response
		var body string
		if c.method == http.MethodGet {
			resp, body = w.get(c.path)
		} else {
			resp, body = w.post(c.path, url.Values{"reason": {"test"}, "email": {"x@example.com"}, "role": {"admin"}})
		}
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %s: %d; want %d\n%s", c.role, c.method, c.path, resp.StatusCode, c.want, body)
		}
		if c.want == http.StatusForbidden && !strings.Contains(body, "您的角色无权进行此操作") {
			t.Errorf("%s %s: the page does not say why", c.role, c.path)
		}
	}
	if n := len(a.auditActions("customer.reveal")); n != 0 {
		t.Fatalf("%d reveals audited; none was allowed", n)
	}
}

func TestDashboardStaffManagement(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		_, email := a.staffMember(staff.Admin, "admin")
		w := a.newWebClient()
		w.login(email, testPassword)
		w.get("/staff")
		resp, body := w.post("/staff", url.Values{"name": {"小王"}, "email": {"wang@example.com"}, "role": {"agent"}})
		password := between(body, `id="temp-password">`, "<")
		if resp.StatusCode != http.StatusOK || len(password) < 12 {
			t.Fatalf("add: %d\n%s", resp.StatusCode, body)
		}
		m, err := a.staff.FindMemberByEmail(ctx, "wang@example.com")
		if err != nil || m.Role != staff.Agent {
			t.Fatalf("added member = %+v, %v", m, err)
		}
		agent := a.newWebClient()
		agent.login("wang@example.com", password)
		if resp, _ := agent.get("/campaigns/new"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("agent on the campaign form: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/staff/"+m.ID+"/role", url.Values{"role": {"marketer"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("change role: %d", resp.StatusCode)
		}
		// The new role applies at the member's next request.
		if resp, _ := agent.get("/campaigns/new"); resp.StatusCode != http.StatusOK {
			t.Fatalf("marketer on the campaign form: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/staff/"+m.ID+"/disable", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("disable: %d", resp.StatusCode)
		}
		if resp, _ := agent.get("/tickets"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("a disabled member's session still works: %d", resp.StatusCode)
		}
		me, _ := a.staff.FindMemberByEmail(ctx, email)
		if resp, body := w.post("/staff/"+me.ID+"/disable", nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "您不能停用自己的账户") {
			t.Fatalf("self-disable: %d", resp.StatusCode)
		}
		for _, action := range []string{"staff.create", "staff.role", "staff.disable"} {
			if len(a.auditActions(action)) == 0 {
				t.Errorf("%s is not audited", action)
			}
		}
	})
}

func TestDashboardCustomers(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		a.importAndWait(a.tokenFor(staff.Admin), []byte(sampleCSV))
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		for _, q := range []string{"13812345678", "zhang@example.com", "张"} {
			resp, body := w.get("/customers?q=" + url.QueryEscape(q))
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "张*") || strings.Contains(body, "李*") ||
				!strings.Contains(body, "138****5678") || strings.Contains(body, "张三") {
				t.Fatalf("search %q: %d; want only 张三, masked\n%s", q, resp.StatusCode, body)
			}
		}
		_, body := w.get("/customers?q=zhang@example.com")
		href := between(body, `<a href="/customers/`, `"`)
		resp, body := w.get("/customers/" + href)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "张三") || !strings.Contains(body, `id="reveal-form"`) {
			t.Fatalf("customer page: %d\n%s", resp.StatusCode, body)
		}
		if resp, body := w.post("/customers/"+href+"/reveal", url.Values{"reason": {" "}}); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(body, "需要填写原因") {
			t.Fatalf("reveal without a reason: %d", resp.StatusCode)
		}
		resp, body = w.post("/customers/"+href+"/reveal", url.Values{"reason": {"客户来电核对地址"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "张三") || !strings.Contains(body, "&#43;8613812345678") ||
			!strings.Contains(body, `id="revealed"`) {
			t.Fatalf("reveal: %d\n%s", resp.StatusCode, body)
		}
		entries := a.auditActions("customer.reveal")
		if len(entries) != 1 || entries[0].ObjectID != href || !strings.Contains(entries[0].Detail, "客户来电核对地址") {
			t.Fatalf("reveal audit = %+v", entries)
		}
	})
}

func TestDashboardCampaigns(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin := a.tokenFor(staff.Admin)
		a.importAndWait(admin, []byte(sampleCSV))
		var tr struct{ ID string }
		a.postJSON("/api/v1/transfers", admin, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
			"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		_, email := a.staffMember(staff.Marketer, "marketer")
		w := a.newWebClient()
		w.login(email, testPassword)
		resp, body := w.get("/campaigns")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/campaigns/new?kind=transfer_notice"`) {
			t.Fatalf("empty list: %d\n%s", resp.StatusCode, body)
		}
		resp, body = w.get("/campaigns/new?kind=transfer_notice")
		m := regexp.MustCompile(`<option value="([0-9A-Z]+)" selected>`).FindStringSubmatch(between(body, `id="template-devbox"`, "</select>"))
		tmpl := ""
		if m != nil {
			tmpl = m[1]
		}
		if resp.StatusCode != http.StatusOK || tmpl == "" || !strings.Contains(body, `<option value="1" selected>`) {
			t.Fatalf("form with defaults: %d tmpl=%q\n%s", resp.StatusCode, tmpl, body)
		}
		if !strings.Contains(body, `id="quiet-start" value="21:00"`) || !strings.Contains(body, `id="time-zone" value="Asia/Shanghai"`) {
			t.Errorf("quiet hours are not on by default:\n%s", between(body, "<fieldset>", "</form>"))
		}
		form := url.Values{"name": {"转让告知"}, "transfer_id": {tr.ID}, "kind": {"transfer_notice"}, "order_devbox": {"1"},
			"template_devbox": {tmpl}, "action": {"preview"}}
		resp, body = w.post("/campaigns", form)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="previews"`) || !strings.Contains(body, "江南商贸") ||
			!strings.Contains(body, "class=\"note segments\"") || !regexp.MustCompile(`id="audience-count">[^<]*: [1-9]`).MatchString(body) {
			t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
		}
		form.Set("action", "create")
		form.Set("order_devbox", "")
		if resp, body := w.post("/campaigns", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-error"`) {
			t.Fatalf("no channel: %d\n%s", resp.StatusCode, body)
		}
		form.Set("order_devbox", "1")
		form.Set("send_at", "2020-01-01T09:00")
		if resp, body := w.post("/campaigns", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "必须晚于现在") {
			t.Fatalf("past send time: %d\n%s", resp.StatusCode, body)
		}
		if list, _ := a.campaigns.FindCampaigns(ctx, ""); len(list) != 0 {
			t.Fatalf("a refused form left %d campaigns", len(list))
		}
		form.Set("send_at", "")
		form.Set("quiet_start", "25:00")
		form.Set("quiet_end", "08:00")
		if resp, body := w.post("/campaigns", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-error"`) {
			t.Fatalf("bad quiet hours: %d\n%s", resp.StatusCode, body)
		}
		form.Set("quiet_start", "21:30")
		form.Set("time_zone", "Europe/Berlin")
		form.Set("send_at", time.Now().Add(48*time.Hour).Format("2006-01-02T15:04"))
		resp, _ = w.post("/campaigns", form)
		list, _ := a.campaigns.FindCampaigns(ctx, "scheduled")
		if resp.StatusCode != http.StatusSeeOther || len(list) != 1 {
			t.Fatalf("scheduled create: %d, %d scheduled", resp.StatusCode, len(list))
		}
		if q := list[0].Quiet; q == nil || campaigns.Clock(q.Start) != "21:30" || campaigns.Clock(q.End) != "08:00" || list[0].TimeZone != "Europe/Berlin" {
			t.Errorf("quiet hours %+v in %q, want 21:30–08:00 in Europe/Berlin", q, list[0].TimeZone)
		}
		form.Del("send_at")
		resp, _ = w.post("/campaigns", form)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/campaigns/") {
			t.Fatalf("create: %d %s", resp.StatusCode, loc)
		}
		path := strings.TrimSuffix(loc, "?done=created")
		resp, body = w.get(loc)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="start"`) || !strings.Contains(body, "<svg") ||
			!strings.Contains(body, `id="pace"`) {
			t.Fatalf("campaign page: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := w.post(path+"/start", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("start: %d", resp.StatusCode)
		}
		var p struct {
			Status      string
			Total, Done int
			Live        bool
			Rates       map[string]int
		}
		resp, body = w.get(path + "/progress")
		if err := json.Unmarshal([]byte(body), &p); err != nil || resp.StatusCode != http.StatusOK || p.Status != "running" || p.Total != 2 || !p.Live ||
			len(p.Rates) == 0 {
			t.Fatalf("progress: %d %+v %v\n%s", resp.StatusCode, p, err, body)
		}
		if resp, _ := w.post(path+"/pause", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("pause: %d", resp.StatusCode)
		}
		if resp, body := w.post(path+"/pause", nil); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "已暂停") {
			t.Fatalf("second pause: %d", resp.StatusCode)
		}
		_, body = w.get(path)
		if !strings.Contains(body, `id="resume"`) {
			t.Fatal("a paused campaign offers no resume")
		}
		if len(a.auditActions("campaign.start")) != 1 || len(a.auditActions("campaign.pause")) != 1 {
			t.Fatal("start and pause are not audited")
		}
		if resp, body := w.get("/campaigns"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<progress") {
			t.Fatalf("list: %d", resp.StatusCode)
		}
	})
}

func TestDashboardPagesRender(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, email := a.staffMember(staff.Admin, "admin")
	w := a.newWebClient()
	w.login(email, testPassword)
	for _, path := range []string{"/tickets", "/customers", "/campaigns", "/templates", "/devbox", "/staff", "/account",
		"/static/dashboard.css", "/static/dashboard.js"} {
		resp, body := w.get(path)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, "nav.") || strings.Contains(body, "campaign.") {
			t.Errorf("%s: %d (or an untranslated key)\n%s", path, resp.StatusCode, body)
		}
	}
	resp, _ := w.get("/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets" {
		t.Errorf("/: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := w.get("/customers/01ARZ3NDEKTSV4RRFFQ69G5FAV"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "<html") {
		t.Errorf("unknown customer: %d", resp.StatusCode)
	}
	// English per member.
	w.get("/account")
	w.post("/account/preferences", url.Values{"locale": {"en"}, "time_zone": {"Europe/Berlin"}})
	if _, body := w.get("/campaigns"); !strings.Contains(body, "No campaigns yet") {
		t.Error("the member's language is not used")
	}
}
