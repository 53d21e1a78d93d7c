package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web"
)

// marketerApp is an app whose campaigns send by email (to an SMTP sink)
// and the devbox, with the sample customers, a transfer with a marketing
// purpose, the default templates, and 张三 having declined marketing.
type marketerApp struct {
	*app
	sink       *smtptest.Sink
	transfer   string
	zhang, li  string
	chans      map[channels.Name]channels.Channel
	workerDone bool
}

func newMarketerApp(t *testing.T, db *database.DB) *marketerApp {
	t.Helper()
	sink := smtptest.New(t)
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <service@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	m := &marketerApp{sink: sink}
	var svc *campaigns.Service
	a := newAppWith(t, db, queuetest.Embedded(t), func(d *web.Deps) {
		m.chans = map[channels.Name]channels.Channel{channels.Email: mail, channels.Devbox: d.Devbox}
		svc = campaigns.New(campaigns.Config{DB: d.DB, Transfers: d.Transfers, Queue: d.Queue, Customers: d.Customers, Templates: d.Templates,
			Channels: m.chans, PublicURL: d.Config.PublicURL})
		d.Campaigns = svc
	}, "HANDOVER_SMTP_URL="+sink.URL(), "HANDOVER_EMAIL_FROM=Handover <service@example.com>")
	a.campaigns = svc
	m.app = a
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行","营销"],"data_categories":["name","phone","email"],"retention_days":90}`, &tr)
	m.transfer = tr.ID
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, _ := a.customers.FindCustomers(ctx, customers.Filter{})
	for _, c := range list {
		switch c.Name {
		case "张三":
			m.zhang = c.ID
		case "李四":
			m.li = c.ID
		}
	}
	if _, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: m.zhang, TransferID: tr.ID, Purpose: "营销",
		Decision: customers.ConsentDeclined, Source: customers.SourceStaff, Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	return m
}

// startWorkers runs the campaign tasks of every channel until the test ends.
func (m *marketerApp) startWorkers() {
	if m.workerDone {
		return
	}
	m.workerDone = true
	srv := m.queue.NewServer(queue.ServerConfig{Queues: campaigns.Queues(m.chans), TaskCheckInterval: 20 * time.Millisecond,
		ShutdownTimeout: 5 * time.Second})
	mux := asynq.NewServeMux()
	m.campaigns.Register(mux)
	if err := srv.Start(mux); err != nil {
		m.t.Fatal(err)
	}
	m.t.Cleanup(srv.Shutdown)
}

// waitStatus waits until the campaign has status.
func (m *marketerApp) waitStatus(id string, status campaigns.Status) *campaigns.Campaign {
	m.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		cp, err := m.campaigns.FindCampaignByID(context.Background(), id)
		if err != nil {
			m.t.Fatal(err)
		}
		if cp.Status == status {
			return cp
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("campaign %s is %s; want %s", id, cp.Status, status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postMultipart sends the form with a file field, with the CSRF token.
func (w *webClient) postMultipart(path string, form url.Values, field, name string, content []byte) (*http.Response, string) {
	w.a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if _, ok := form["csrf"]; !ok {
		mw.WriteField("csrf", w.csrf)
	}
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(content)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, w.a.url+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return w.send(req)
}

var selectedTemplate = regexp.MustCompile(`<option value="([0-9A-Z]+)" selected>`)

// dataN reads the number the page shows under data-n="name".
func dataN(t *testing.T, body, name string) int {
	t.Helper()
	m := regexp.MustCompile(`data-n="` + regexp.QuoteMeta(name) + `"[^>]*>([0-9]+)<`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no number %s on the page", name)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestMarketerCampaignFlow: a marketer lands on campaigns, creates a
// consent request with a purpose and an uploaded list, previews it, edits
// and schedules it, starts it, and the decliner gets nothing at the SMTP
// sink; the page's numbers agree, the export is masked and audited, and
// "send again" makes a draft for those who did not open.
func TestMarketerCampaignFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) { marketerFlow(t, newMarketerApp(t, db)) })
}

func marketerFlow(t *testing.T, m *marketerApp) {
	a := m.app
	ctx := context.Background()
	_, mail := a.staffMember(staff.Marketer, "marketer")
	w := a.newWebClient()
	w.login(mail, testPassword)
	if resp, _ := w.get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/campaigns" {
		t.Fatalf("a marketer's home: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// Kind first: only consent-request templates, the reader's language chosen.
	resp, body := w.get("/campaigns/new?kind=consent_request")
	tm := selectedTemplate.FindStringSubmatch(between(body, `id="template-email"`, "</select>"))
	if resp.StatusCode != http.StatusOK || tm == nil || !strings.Contains(body, `id="purpose" required`) {
		t.Fatalf("new consent request: %d\n%s", resp.StatusCode, body)
	}
	if tpl, err := a.templates.FindTemplateByID(ctx, tm[1]); err != nil || tpl.Kind != "consent_request" || tpl.Locale != "zh-CN" {
		t.Fatalf("default template %+v %v", tpl, err)
	}
	if !strings.Contains(between(body, `id="import-id"`, "</select>"), "新增客户 2") {
		t.Errorf("the import batch is not offered:\n%s", between(body, `id="import-id"`, "</select>"))
	}
	if strings.Contains(between(body, `id="template-email"`, "</select>"), "转让告知") {
		t.Error("the form offers templates of another kind")
	}
	form := url.Values{"name": {"营销同意"}, "transfer_id": {m.transfer}, "kind": {"consent_request"}, "purpose": {""},
		"order_email": {"1"}, "template_email": {tm[1]}, "rate_email": {"5"}, "survey_nps": {"1"}, "time_zone": {"Asia/Shanghai"},
		"action": {"create"}}
	// No purpose: refused, in the reader's language, nothing stored.
	if resp, body := w.post("/campaigns", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "必须选择用途") {
		t.Fatalf("no purpose: %d\n%s", resp.StatusCode, body)
	}
	form.Set("purpose", "营销")
	form.Set("rate_email", "fast")
	if resp, body := w.post("/campaigns", form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-error"`) {
		t.Fatalf("bad rate: %d\n%s", resp.StatusCode, body)
	}
	form.Set("rate_email", "5")
	if list, _ := a.campaigns.FindCampaigns(ctx, ""); len(list) != 0 {
		t.Fatalf("refused forms left %d campaigns", len(list))
	}
	// Preview: the decliner is skipped, the reason in words.
	form.Set("action", "preview")
	resp, body = w.post("/campaigns", form)
	if resp.StatusCode != http.StatusOK || !strings.Contains(between(body, `id="audience-skips"`, "</ul>"), "拒绝了此用途: 1") {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, between(body, `id="audience-preview"`, "</section>"))
	}
	// An uploaded list: 张三 by phone, 李四 by email, a formula is not understood.
	csv := []byte("手机,邮箱\n138 1234 5678,\n,li@example.com\n=1+2,\n")
	form.Set("action", "create")
	resp, body = w.postMultipart("/campaigns", form, "list", "list.csv", csv)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/campaigns/") {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	path := strings.TrimSuffix(loc, "?done=created")
	id := strings.TrimPrefix(path, "/campaigns/")
	cp, err := a.campaigns.FindCampaignByID(ctx, id)
	if err != nil || cp.Purpose != "营销" || cp.Rates[channels.Email] != 5 || cp.Audience.CustomerIDs == nil {
		t.Fatalf("created %+v %v", cp, err)
	}
	if ids, _ := a.campaigns.AudienceList(ctx, id); len(ids) != 2 {
		t.Fatalf("list %v; want 张三 and 李四", ids)
	}

	// Edit and schedule, in the viewer's zone; other roles and forged posts may not.
	resp, body = w.get(path + "/edit")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="list-size">2<`) || !strings.Contains(body, "Asia/Shanghai") {
		t.Fatalf("edit form: %d\n%s", resp.StatusCode, body)
	}
	listIDs := regexp.MustCompile(`name="list_ids" id="list-ids" value="([^"]*)"`).FindStringSubmatch(body)[1]
	sendAt := time.Now().Add(72 * time.Hour).In(time.FixedZone("CST", 8*3600)).Truncate(time.Minute)
	edit := url.Values{}
	for k, v := range form {
		edit[k] = v
	}
	edit.Set("name", "营销同意(改)")
	edit.Set("list_ids", strings.ReplaceAll(listIDs, "&#10;", "\n"))
	edit.Set("send_at", sendAt.Format("2006-01-02T15:04"))
	forged := url.Values{"csrf": {"forged"}}
	for k, v := range edit {
		if k != "csrf" {
			forged[k] = v
		}
	}
	if resp, _ := w.post(path+"/edit", forged); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged edit: %d", resp.StatusCode)
	}
	if resp, body := w.post(path+"/edit", edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", resp.StatusCode, between(body, "<main", "</form>"))
	}
	cp, _ = a.campaigns.FindCampaignByID(ctx, id)
	if cp.Status != campaigns.StatusScheduled || cp.SendAt == nil || !cp.SendAt.Equal(sendAt) || cp.Name != "营销同意(改)" || cp.Purpose != "营销" {
		t.Fatalf("after edit: %+v (send at %v, want %v)", cp, cp.SendAt, sendAt)
	}
	if ids, _ := a.campaigns.AudienceList(ctx, id); len(ids) != 2 {
		t.Fatalf("the edit lost the list: %v", ids)
	}
	// The kind step on the edit form offers the other kind's templates.
	if _, body := w.get(path + "/edit?kind=survey"); !strings.Contains(body, `id="kind" value="survey"`) ||
		!strings.Contains(body, `id="list-size">2<`) {
		t.Errorf("edit with another kind:\n%s", between(body, `id="campaign-form"`, "</fieldset>"))
	}
	if len(a.auditActions("campaign.update")) != 1 {
		t.Fatal("the edit is not audited")
	}
	_, agentMail := a.staffMember(staff.Agent, "agent")
	agent := a.newWebClient()
	agent.login(agentMail, testPassword)
	agent.get("/campaigns")
	for _, p := range []string{path + "/edit", path + "/again"} {
		if resp, _ := agent.post(p, edit); resp.StatusCode != http.StatusForbidden {
			t.Errorf("agent POST %s: %d", p, resp.StatusCode)
		}
	}

	// Cancel asks first, on a page of its own.
	resp, body = w.get(path + "/cancel")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="confirm-cancel"`) || !strings.Contains(body, "无法撤销") {
		t.Fatalf("cancel confirmation: %d", resp.StatusCode)
	}
	if cp, _ := a.campaigns.FindCampaignByID(ctx, id); cp.Status != campaigns.StatusScheduled {
		t.Fatal("showing the confirmation cancelled the campaign")
	}

	// A test to the marketer's own address, not counted.
	if resp, _ := w.post(path+"/test-send", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("test-send: %d", resp.StatusCode)
	}
	if msgs := m.sink.Messages(); len(msgs) != 1 || msgs[0].To[0] != mail {
		t.Fatalf("test-send reached %d messages", len(msgs))
	}
	m.sink.Reset()

	// Start: the decliner gets nothing.
	m.startWorkers()
	if resp, _ := w.post(path+"/start", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("start: %d", resp.StatusCode)
	}
	m.waitStatus(id, campaigns.StatusCompleted)
	msgs := m.sink.Messages()
	if len(msgs) != 1 || msgs[0].To[0] != "li@example.com" {
		var to []string
		for _, msg := range msgs {
			to = append(to, msg.To...)
		}
		t.Fatalf("sink got mail to %v; want only li@example.com (张三 declined 营销)", to)
	}

	// A started campaign's form is shown to copy from, without a save.
	if resp, body := w.get(path + "/edit"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="form-error"`) ||
		strings.Contains(body, `id="create"`) {
		t.Fatalf("edit of a completed campaign: %d", resp.StatusCode)
	}
	if resp, _ := w.post(path+"/edit", edit); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("save of a completed campaign: %d", resp.StatusCode)
	}

	// One set of numbers: the bar, the funnel, the channel block and the poll.
	resp, body = w.get(path)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("campaign page: %d", resp.StatusCode)
	}
	total, sent := dataN(t, body, "total"), dataN(t, body, "sent")
	if total != 2 || sent != 1 || dataN(t, body, "email.sent") != sent || dataN(t, body, "not_sent") != 1 || dataN(t, body, "done") != 2 {
		t.Fatalf("numbers: total %d sent %d\n%s", total, sent, between(body, `id="live"`, "</table>"))
	}
	if !strings.Contains(body, `id="funnel-total">2<`) || !strings.Contains(body, `id="funnel-sent">1<`) || !strings.Contains(body, "<polyline") {
		t.Fatalf("funnel or chart:\n%s", between(body, `id="funnel"`, `id="by-channel"`))
	}
	var poll struct {
		Total, Done int
		Fields      map[string]int
	}
	_, pb := w.get(path + "/progress")
	if err := json.Unmarshal([]byte(pb), &poll); err != nil || poll.Total != total || poll.Fields["sent"] != sent || poll.Fields["email.sent"] != sent {
		t.Fatalf("poll %s: %v", pb, err)
	}

	// Export: masked contacts, audited.
	resp, body = w.get(path + "/deliveries.csv")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		strings.Contains(body, "li@example.com") || strings.Contains(body, "13812345678") || !strings.Contains(body, "拒绝了此用途") {
		t.Fatalf("export: %d\n%s", resp.StatusCode, body)
	}
	if len(a.auditActions("campaign.export")) != 1 {
		t.Fatal("the export is not audited")
	}

	// Send again to those who did not open: a draft for 李四 alone.
	if resp, body := w.post(path+"/again", url.Values{"step": {"everyone"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad step: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = w.post(path+"/again", url.Values{"step": {"not_opened"}})
	loc = resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/edit") {
		t.Fatalf("send again: %d %s", resp.StatusCode, loc)
	}
	againID := strings.TrimSuffix(strings.TrimPrefix(loc, "/campaigns/"), "/edit")
	again, err := a.campaigns.FindCampaignByID(ctx, againID)
	ids, _ := a.campaigns.AudienceList(ctx, againID)
	if err != nil || again.Status != campaigns.StatusDraft || again.Purpose != "营销" || len(ids) != 1 || ids[0] != m.li {
		t.Fatalf("send again made %+v for %v", again, ids)
	}
	if resp, body := w.get(loc); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="list-size">1<`) {
		t.Fatalf("the new draft's form: %d", resp.StatusCode)
	}
	// Previewing it counts the list; with "remove the list", everyone.
	preview := url.Values{}
	for k, v := range edit {
		preview[k] = v
	}
	preview.Set("list_ids", m.li)
	preview.Set("send_at", "")
	preview.Set("action", "preview")
	if _, body := w.post(loc, preview); !strings.Contains(body, "选中客户: 1 ") {
		t.Errorf("preview of the draft's list:\n%s", between(body, `id="audience-preview"`, "</section>"))
	}
	preview.Set("clear_list", "1")
	if _, body := w.post(loc, preview); !strings.Contains(body, "选中客户: 2 ") {
		t.Errorf("preview without the list:\n%s", between(body, `id="audience-preview"`, "</section>"))
	}
	// Cancelled after the confirmation step.
	if resp, body := w.get(loc[:len(loc)-len("/edit")] + "/cancel"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="confirm-cancel"`) {
		t.Fatalf("cancel confirmation: %d", resp.StatusCode)
	}
	if resp, _ := w.post("/campaigns/"+againID+"/cancel", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("cancel: %d", resp.StatusCode)
	}
	if cp, _ := a.campaigns.FindCampaignByID(ctx, againID); cp.Status != campaigns.StatusCancelled {
		t.Fatalf("after cancel: %s", cp.Status)
	}
}
