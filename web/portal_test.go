package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// seedPortal imports two customers and records a transfer with two
// purposes; it returns the customers' ids and the transfer's.
func (a *app) seedPortal() ([]string, string) {
	a.t.Helper()
	ctx := context.Background()
	path := filepath.Join(a.t.TempDir(), "list.csv")
	csv := "姓名,手机,邮箱\n张三,13812345678,zhang@example.com\n李四,13900001111,li@example.com\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.importer.Run(ctx, path, nil, "cli", nil); err != nil {
		a.t.Fatal(err)
	}
	ids, err := a.db.QueryIDs(ctx, `SELECT id FROM customers ORDER BY id`)
	if err != nil || len(ids) != 2 {
		a.t.Fatalf("customers: %v, %v", ids, err)
	}
	tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸有限公司", BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
		Purposes: []string{"订单履行", "营销推广"}, DataCategories: []string{"name", "phone", "email"}, RetentionDays: 90}
	if err := a.transfers.CreateTransfer(ctx, tr, "cli"); err != nil {
		a.t.Fatal(err)
	}
	return ids, tr.ID
}

func (a *app) issue(customer, transfer string) (string, *links.Link) {
	a.t.Helper()
	token, l, err := a.links.Issue(context.Background(), links.IssueRequest{CustomerID: customer, TransferID: transfer, Actor: "staff:test"})
	if err != nil {
		a.t.Fatal(err)
	}
	return token, l
}

// visitor is a customer's browser without the browser: a cookie jar and
// no redirects followed.
type visitor struct {
	a      *app
	client *http.Client
}

func (a *app) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{a: a, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (v *visitor) get(path string) (int, string) {
	v.a.t.Helper()
	resp, err := v.client.Get(v.a.url + path)
	if err != nil {
		v.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (v *visitor) post(path string, form url.Values) (int, string, http.Header) {
	v.a.t.Helper()
	resp, err := v.client.PostForm(v.a.url+path, form)
	if err != nil {
		v.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var csrfRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// form opens page and returns its CSRF token.
func (v *visitor) form(path string) string {
	v.a.t.Helper()
	code, body := v.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if code != http.StatusOK || m == nil {
		v.a.t.Fatalf("GET %s: %d, no form:\n%s", path, code, body)
	}
	return m[1]
}

func TestPortalConsent(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		token, l := a.issue(ids[0], transfer)
		v := a.visitor()
		code, body := v.get("/l/" + token)
		if code != http.StatusOK || !strings.Contains(body, "江南商贸有限公司") || !strings.Contains(body, "400-800-1234") || !strings.Contains(body, "第十七条") {
			t.Fatalf("notice: %d\n%s", code, body)
		}
		t.Logf("notice page: %d bytes", len(body))
		if len(body) > 20_000 {
			t.Errorf("notice page is %d bytes", len(body))
		}
		csrf := v.form("/l/" + token + "/consent")
		choose := url.Values{"_csrf": {csrf}, "step": {"review"}, "p0": {"grant"}, "p1": {"decline"}}
		code, body, _ = v.post("/l/"+token+"/consent", choose)
		if code != http.StatusOK || !strings.Contains(body, "请确认") {
			t.Fatalf("review: %d\n%s", code, body)
		}
		choose.Set("step", "confirm")
		for i := 0; i < 2; i++ { // a double submit records once
			code, _, h := v.post("/l/"+token+"/consent", choose)
			if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "/consent?saved=1") {
				t.Fatalf("confirm: %d %s", code, h.Get("Location"))
			}
		}
		state, _ := a.customers.ConsentState(ctx, ids[0], transfer)
		if state["订单履行"] != customers.ConsentGranted || state["营销推广"] != customers.ConsentDeclined {
			t.Fatalf("state = %v", state)
		}
		// Withdraw, from the same link.
		choose.Set("p0", "decline")
		if code, _, _ := v.post("/l/"+token+"/consent", choose); code != http.StatusSeeOther {
			t.Fatalf("withdraw: %d", code)
		}
		events, _ := a.customers.ConsentHistory(ctx, ids[0])
		if len(events) != 3 || events[2].Decision != customers.ConsentWithdrawn || events[2].LinkID != l.ID ||
			len(events[2].NoticeHash) != 64 || events[2].IP == "" || events[2].Source != customers.SourcePortal {
			t.Fatalf("ledger: %+v", events)
		}
		// A's link never changes B.
		if state, _ := a.customers.ConsentState(ctx, ids[1], transfer); len(state) != 0 {
			t.Fatalf("customer B's consent changed: %v", state)
		}
		// English, remembered.
		if _, body := v.get("/l/" + token + "?lang=en"); !strings.Contains(body, "Notice of transfer") {
			t.Fatalf("english notice:\n%s", body)
		}
		if _, body := v.get("/l/" + token + "/consent"); !strings.Contains(body, "Now: withdrawn") {
			t.Fatalf("english consent page:\n%s", body)
		}
	})
}

func TestPortalTokens(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_COMPANY_CONTACT=400-111-2222")
	ids, transfer := a.seedPortal()
	expired, le := a.issue(ids[0], transfer)
	revoked, lr := a.issue(ids[0], transfer)
	if _, err := a.db.ExecContext(context.Background(), `UPDATE links SET expires_at = $1 WHERE id = $2`, time.Now().UTC().Add(-time.Hour), le.ID); err != nil {
		t.Fatal(err)
	}
	var out struct {
		RevokedAt *time.Time `json:"revoked_at"`
	}
	if code := a.postJSON("/api/v1/links/"+lr.ID+"/revoke", a.tokenFor(staff.Agent), "", &out); code != http.StatusOK || out.RevokedAt == nil {
		t.Fatalf("revoke: %d", code)
	}
	v := a.visitor()
	pages := map[int]string{}
	for path, want := range map[string]int{
		"/l/" + expired: http.StatusGone, "/l/" + revoked + "/consent": http.StatusGone,
		"/l/AAAAAAAAAAAAAA": http.StatusNotFound, "/l/short": http.StatusNotFound,
	} {
		code, body := v.get(path)
		if code != want || !strings.Contains(body, "400-111-2222") {
			t.Errorf("%s: %d, want %d\n%s", path, code, want, body)
		}
		pages[code] = body
	}
	if pages[http.StatusGone] != pages[http.StatusNotFound] {
		t.Error("the 404 and 410 pages differ: they hint whether a token existed")
	}
	// An old email still unsubscribes in one click.
	resp := a.do(http.MethodPost, "/l/"+expired+"/unsubscribe", "", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), nil)
	if chs, _ := a.customers.OptOuts(context.Background(), ids[0]); resp.StatusCode != http.StatusOK || len(chs) != 2 {
		t.Fatalf("one-click through an expired link: %d, opt-outs %v", resp.StatusCode, chs)
	}
	resp = a.do(http.MethodPost, "/l/AAAAAAAAAAAAAA/unsubscribe", "", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), nil)
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("one-click with an unknown token: %d", resp.StatusCode)
	}
}

func TestPortalThrottle(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_METRICS_TOKEN="+testMetricsToken)
	ids, transfer := a.seedPortal()
	token, _ := a.issue(ids[0], transfer)
	v := a.visitor()
	for i := 0; i < 20; i++ {
		tok, _, _ := links.NewToken()
		if code, _ := v.get("/l/" + tok); code != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	tok, _, _ := links.NewToken()
	if code, _ := v.get("/l/" + tok); code != http.StatusTooManyRequests {
		t.Fatalf("21st guess: %d", code)
	}
	if code, _ := v.get("/l/" + token); code != http.StatusTooManyRequests {
		t.Fatalf("a good token from a guessing address: %d", code)
	}
	metrics := a.metricsText()
	if !strings.Contains(metrics, "handover_portal_failed_lookups_total 21") || !strings.Contains(metrics, "handover_portal_throttled_total 2") {
		t.Fatalf("metrics:\n%s", metrics)
	}
}

func TestPortalCSRFAndLimits(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ids, transfer := a.seedPortal()
	token, _ := a.issue(ids[0], transfer)
	v := a.visitor()
	v.form("/l/" + token + "/consent") // sets the CSRF cookie
	form := url.Values{"step": {"confirm"}, "p0": {"grant"}, "p1": {"grant"}}
	if code, body, _ := v.post("/l/"+token+"/consent", form); code != http.StatusForbidden || !strings.Contains(body, "页面已过期") {
		t.Fatalf("no token: %d\n%s", code, body)
	}
	form.Set("_csrf", "forged")
	if code, _, _ := v.post("/l/"+token+"/consent", form); code != http.StatusForbidden {
		t.Fatalf("forged token: %d", code)
	}
	if state, _ := a.customers.ConsentState(context.Background(), ids[0], transfer); len(state) != 0 {
		t.Fatalf("consent recorded without CSRF: %v", state)
	}
	form.Set("_csrf", v.form("/l/"+token+"/survey"))
	form.Set("text", strings.Repeat("长", 10_000))
	if code, _, _ := v.post("/l/"+token+"/survey", form); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", code)
	}
	resp := a.do(http.MethodGet, "/l/"+token, "", "", nil, nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "style-src 'self'") || strings.Contains(csp, "script-src") {
		t.Fatalf("CSP = %q", csp)
	}
}

func TestPortalSurveyAndOptOut(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		token, _ := a.issue(ids[0], transfer)
		v := a.visitor()
		answer := url.Values{"_csrf": {v.form("/l/" + token + "/survey")}, "nps": {"3"}, "text": {"送货太慢"}}
		for i := 0; i < 2; i++ {
			if code, _, _ := v.post("/l/"+token+"/survey", answer); code != http.StatusSeeOther {
				t.Fatalf("survey: %d", code)
			}
		}
		var answers, events int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_answers WHERE customer_id = $1`, ids[0]).Scan(&answers)
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE channel = 'portal' AND customer_id = $1`, ids[0]).Scan(&events)
		if answers != 1 || events != 1 {
			t.Fatalf("answers %d, inbound events %d; want 1, 1", answers, events)
		}
		if _, body := v.get("/l/" + token + "/survey"); !strings.Contains(body, "感谢您的反馈") {
			t.Fatalf("answered survey page:\n%s", body)
		}
		csrf := v.form("/l/" + token + "/optout")
		code, body, _ := v.post("/l/"+token+"/optout", url.Values{"_csrf": {csrf}, "o": {"sms:promotional", "sms:survey"}})
		if code != http.StatusOK || !strings.Contains(body, "已退订：短信的推广消息、满意度调查。") || !strings.Contains(body, "第五十七条") {
			t.Fatalf("opt out of promotional SMS and surveys: %d\n%s", code, body)
		}
		sms := []customers.OptOut{{Channel: channels.SMS, Kind: customers.OptOutPromotional}, {Channel: channels.SMS, Kind: customers.OptOutSurvey}}
		if got, _ := a.customers.OptOuts(ctx, ids[0]); !slices.Equal(got, sms) {
			t.Fatalf("opt-outs: %v", got)
		}
		if _, page := v.get("/l/" + token + "/optout"); !strings.Contains(page, `id="o-sms-survey" name="o" value="sms:survey" checked`) ||
			strings.Contains(page, `value="sms:service" checked`) {
			t.Fatalf("opt-out page does not show the choices:\n%s", page)
		}
		// RFC 8058 one-click, no CSRF token, by a mail client: promotional
		// email and surveys, as a "退订" reply would.
		resp := a.do(http.MethodPost, "/l/"+token+"/unsubscribe", "", "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"), nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
		}
		want := append(sms, customers.OptOut{Channel: channels.Email, Kind: customers.OptOutPromotional}, customers.OptOut{Channel: channels.Email, Kind: customers.OptOutSurvey})
		if got, _ := a.customers.OptOuts(ctx, ids[0]); !slices.Equal(got, want) {
			t.Fatalf("after one-click: %v", got)
		}
		if code, body, _ := v.post("/l/"+token+"/optout", url.Values{"_csrf": {csrf}, "all": {"1"}}); code != http.StatusOK || !strings.Contains(body, "微信的推广消息、满意度调查、服务通知") {
			t.Fatalf("opt out of everything: %d\n%s", code, body)
		}
		if got, _ := a.customers.OptOuts(ctx, ids[0]); len(got) != 12 { // with the devbox, which runs here
			t.Fatalf("after all: %v", got)
		}
		// Unticking gets messages again.
		if code, body, _ := v.post("/l/"+token+"/optout", url.Values{"_csrf": {csrf}, "o": {"wechat:promotional"}}); code != http.StatusOK || !strings.Contains(body, "已退订：微信的推广消息。") {
			t.Fatalf("keep one: %d\n%s", code, body)
		}
		if got, _ := a.customers.OptOuts(ctx, ids[0]); len(got) != 1 || got[0] != (customers.OptOut{Channel: channels.WeChat, Kind: customers.OptOutPromotional}) {
			t.Fatalf("after untick: %v", got)
		}
		var optIns int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.opt_in' AND object_id = $1`, ids[0]).Scan(&optIns)
		if optIns != 1 {
			t.Fatalf("opt-in audit entries: %d", optIns)
		}
		if code, _, _ := v.post("/l/"+token+"/optout", url.Values{"_csrf": {csrf}, "o": {"sms:required"}}); code != http.StatusBadRequest {
			t.Fatalf("an unknown kind: %d", code)
		}
		// A customer opted out of everything before kinds sees every box
		// ticked; keeping less makes them active again.
		if _, err := a.db.ExecContext(ctx, `UPDATE customers SET status = 'opted_out' WHERE id = $1`, ids[1]); err != nil {
			t.Fatal(err)
		}
		tokenB, _ := a.issue(ids[1], transfer)
		if _, page := v.get("/l/" + tokenB + "/optout"); strings.Count(page, " checked>") != 12 {
			t.Fatalf("customer B's page:\n%s", page)
		}
		if code, _, _ := v.post("/l/"+tokenB+"/optout", url.Values{"_csrf": {v.form("/l/" + tokenB + "/optout")}, "o": {"sms:promotional"}}); code != http.StatusOK {
			t.Fatalf("customer B keeps one: %d", code)
		}
		if cu, _ := a.customers.FindCustomerByID(ctx, ids[1]); cu.Status != customers.StatusActive {
			t.Fatalf("customer B status = %s", cu.Status)
		}
		if got, _ := a.customers.OptOuts(ctx, ids[1]); len(got) != 1 {
			t.Fatalf("customer B opt-outs: %v", got)
		}
	})
}

func TestLinkAPI(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ids, transfer := a.seedPortal()
	var out struct {
		ID, URL   string
		ExpiresAt time.Time `json:"expires_at"`
	}
	body := `{"transfer_id":"` + transfer + `","purposes":["营销推广"],"ttl_days":7}`
	if code := a.postJSON("/api/v1/customers/"+ids[0]+"/links", a.tokenFor(staff.Auditor), body, nil); code != http.StatusForbidden {
		t.Fatalf("auditor: %d", code)
	}
	if code := a.postJSON("/api/v1/customers/"+ids[0]+"/links", a.tokenFor(staff.Marketer), body, &out); code != http.StatusCreated {
		t.Fatalf("issue: %d", code)
	}
	if !strings.HasPrefix(out.URL, "http") || time.Until(out.ExpiresAt) < 6*24*time.Hour || time.Until(out.ExpiresAt) > 8*24*time.Hour {
		t.Fatalf("link: %+v", out)
	}
	u, _ := url.Parse(out.URL)
	if code, _ := a.visitor().get(u.Path); code != http.StatusOK {
		t.Fatalf("issued link: %d", code)
	}
	if code := a.postJSON("/api/v1/customers/"+ids[0]+"/links", a.tokenFor(staff.Admin), `{"transfer_id":"`+transfer+`","purposes":["别的"]}`, nil); code != http.StatusBadRequest {
		t.Fatalf("unknown purpose: %d", code)
	}
}

func TestCampaignPortalSettings(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ids, transfer := a.seedPortal()
	admin := a.tokenFor(staff.Admin)
	ctx := context.Background()
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	tmpl, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	if err != nil || len(tmpl) != 1 {
		t.Fatalf("devbox template: %v", err)
	}
	var c struct{ ID string }
	body := `{"name":"survey","transfer_id":"` + transfer + `","kind":"transfer_notice","channels":["devbox"],"templates":{"devbox":"` + tmpl[0].ID + `"}}`
	if code := a.postJSON("/api/v1/campaigns", admin, body, &c); code != http.StatusCreated {
		t.Fatalf("create campaign: %d", code)
	}
	var ps struct {
		Survey      struct{ NPS, CSAT bool }
		LinkTTLDays int `json:"link_ttl_days"`
	}
	if code := a.do(http.MethodPut, "/api/v1/campaigns/"+c.ID+"/portal", admin, "application/json",
		strings.NewReader(`{"survey":{"csat":true,"question":"这次交接顺利吗？"},"link_ttl_days":14}`), &ps).StatusCode; code != http.StatusOK ||
		ps.Survey.NPS || !ps.Survey.CSAT || ps.LinkTTLDays != 14 {
		t.Fatalf("set portal settings: %d %+v", code, ps)
	}
	if code := a.do(http.MethodPut, "/api/v1/campaigns/"+c.ID+"/portal", admin, "application/json",
		strings.NewReader(`{"link_ttl_days":400}`), nil).StatusCode; code != http.StatusBadRequest {
		t.Fatalf("ttl of 400 days: %d", code)
	}
	token, hash, _ := links.NewToken()
	err = a.db.InTx(ctx, func(tx *database.Tx) error {
		return links.InsertTx(ctx, tx, []links.Link{{ID: "01JLINKSURVEY0000000000000", TokenHash: hash, CustomerID: ids[0], CampaignID: c.ID,
			TransferID: transfer, Purposes: []string{"订单履行"}, ExpiresAt: time.Now().Add(time.Hour), CreatedBy: "test"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	v := a.visitor()
	_, page := v.get("/l/" + token + "/survey")
	if !strings.Contains(page, "这次交接顺利吗？") || !strings.Contains(page, `name="csat"`) || strings.Contains(page, `name="nps"`) {
		t.Fatalf("survey page:\n%s", page)
	}
	form := url.Values{"_csrf": {csrfRE.FindStringSubmatch(page)[1]}, "csat": {"5"}}
	if code, _, _ := v.post("/l/"+token+"/survey", form); code != http.StatusSeeOther {
		t.Fatalf("answer: %d", code)
	}
	var events int
	a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE channel = 'portal'`).Scan(&events)
	if events != 0 {
		t.Fatalf("a happy answer without text opened %d tickets", events)
	}
}
