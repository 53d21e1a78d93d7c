package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestMarketerInBrowser walks the marketer's day in Chromium on the
// default configuration (the devbox channel, default templates and
// rates), in zh-CN and en: sign in and land on campaigns, create a
// consent request with a purpose and an uploaded list, preview who gets
// it, schedule it, edit it, back out of cancelling, start it and watch
// the numbers agree, export the deliveries, send again to those who did
// not open.
func TestMarketerInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, lang := range []string{"zh-CN", "en"} {
		t.Run(lang, func(t *testing.T) { walkMarketer(t, lang) })
	}
}

func walkMarketer(t *testing.T, lang string) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行","营销"],"data_categories":["name","phone"],"retention_days":90}`, &tr)
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, _ := a.customers.FindCustomers(ctx, customers.Filter{})
	zhang := ""
	for _, c := range list {
		if c.Name == "张三" {
			zhang = c.ID
		}
	}
	if _, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: zhang, TransferID: tr.ID, Purpose: "营销",
		Decision: customers.ConsentDeclined, Source: customers.SourceStaff, Actor: "test"}}); err != nil {
		t.Fatal(err)
	}
	_, mail := a.staffMember(staff.Marketer, "marketer")
	if lang == "en" {
		w := a.newWebClient()
		w.login(mail, testPassword)
		w.get("/account")
		w.post("/account/preferences", map[string][]string{"locale": {"en"}, "time_zone": {"Asia/Shanghai"}})
	}
	text := map[string]map[string]string{
		"zh-CN": {"skip": "拒绝了此用途: 1", "scheduled": "已计划", "again": "未打开"},
		"en":    {"skip": "declined this purpose: 1", "scheduled": "Scheduled", "again": "not opened"},
	}[lang]
	listFile := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(listFile, []byte("手机\n138 1234 5678\n+86-139-0000-1111\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, desktopWidth, desktopHeight)
	do := func(steps ...chromedp.Action[chromedp.Void]) error {
		ctx, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		return chromedp.Do(ctx, steps...)
	}
	must := func(step string, err error) {
		t.Helper()
		if err != nil {
			screenshot(t, b, "failed-"+step)
			t.Fatalf("%s: %v", step, err)
		}
	}
	textOf := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}

	must("sign in", do(chromedp.Navigate(a.url+"/"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", mail), chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"),
		chromedp.WaitVisible("#search")))
	if path, _ := chromedp.Run(b, chromedp.Evaluate[string](`location.pathname`)); path != "/campaigns" {
		t.Fatalf("a marketer lands on %s", path)
	}
	screenshot(t, b, "1-home-campaigns")

	// Kind first, then the form with its templates.
	must("kind", do(chromedp.Navigate(a.url+"/campaigns/new"), chromedp.WaitVisible("#kind-choice"),
		chromedp.SetValue("#kind-choice", "consent_request"), chromedp.Click("#choose-kind"), chromedp.WaitReady(`#kind[value="consent_request"]`)))
	must("fill", do(chromedp.Clear("#campaign-name"), chromedp.SendKeys("#campaign-name", "营销同意 "+lang),
		chromedp.SetValue("#purpose", "营销"), chromedp.SetUploadFiles("#list", []string{listFile}),
		// No quiet hours: the test must not depend on the time of day.
		chromedp.SetValue("#quiet-start", ""), chromedp.SetValue("#quiet-end", "")))
	screenshot(t, b, "2-form")
	must("preview", do(chromedp.Click("#preview"), chromedp.WaitVisible("#audience-preview")))
	if got := textOf("#audience-skips"); !strings.Contains(got, text["skip"]) {
		t.Fatalf("preview skips %q; want %q", got, text["skip"])
	}
	if got := textOf("#list-result"); !strings.Contains(got, "2") {
		t.Fatalf("list result %q", got)
	}
	screenshot(t, b, "3-preview")

	// Schedule it for the day after tomorrow, in the viewer's zone.
	when := time.Now().Add(48 * time.Hour).In(loadShanghai()).Format("2006-01-02T15:04")
	must("schedule", do(chromedp.SetValue("#send-at", when), chromedp.Click("#create"), chromedp.WaitVisible("#campaign-status")))
	if got := textOf("#campaign-status"); got != text["scheduled"] {
		t.Fatalf("status %q after scheduling", got)
	}
	screenshot(t, b, "4-scheduled")

	// Edit: the list is kept, the name changes.
	must("edit", do(chromedp.Click("#edit"), chromedp.WaitVisible("#list-size")))
	screenshot(t, b, "5-edit")
	must("save", do(chromedp.Clear("#campaign-name"), chromedp.SendKeys("#campaign-name", "营销同意 v2 "+lang),
		chromedp.Click("#create"), chromedp.WaitVisible("#campaign-status")))
	if got := textOf("h1"); got != "营销同意 v2 "+lang {
		t.Fatalf("title after edit %q", got)
	}

	// Cancel asks first; keep it.
	must("cancel asks", do(chromedp.Click("#cancel"), chromedp.WaitVisible("#confirm-cancel")))
	screenshot(t, b, "6-cancel-confirm")
	must("keep", do(chromedp.Click("#keep"), chromedp.WaitVisible("#start")))

	// A test to myself first (the devbox, on the default configuration).
	must("test-send", do(chromedp.Click("#test-send"), chromedp.WaitVisible(".flash")))
	screenshot(t, b, "6b-test-sent")

	// Start with a worker: the page follows to the end, one set of numbers.
	a.startWorker()
	must("start", do(chromedp.Click("#start"), chromedp.WaitVisible(`#live[data-status="completed"]`)))
	total, sent := textOf("#progress-total"), textOf("#n-sent")
	if total != "2" || sent != "1" || textOf("#funnel-total") != total || textOf("#funnel-sent") != sent ||
		textOf(`#channel-devbox td.ch-sent`) != sent {
		t.Fatalf("numbers disagree: bar %s, sent %s, funnel %s/%s, channel %s", total, sent, textOf("#funnel-total"),
			textOf("#funnel-sent"), textOf(`#channel-devbox td.ch-sent`))
	}
	screenshot(t, b, "7-completed")

	// Export, fetched as the link would.
	csv, err := chromedp.Run(b, chromedp.Evaluate[string](`(function(){var x=new XMLHttpRequest();x.open("GET",document.getElementById("export").href,false);x.send();return x.status+"\n"+x.responseText})()`))
	if err != nil || !strings.HasPrefix(csv, "200\n") || strings.Contains(csv, "13900001111") || strings.Contains(csv, "张三") {
		t.Fatalf("export %q: %v", csv, err)
	}

	// Send again to those who did not open: a new draft.
	must("again", do(chromedp.Click("#again-not-opened"), chromedp.WaitVisible("#list-size")))
	if got := textOf("#list-size"); got != "1" {
		t.Fatalf("send again list %q; want 1", got)
	}
	if v, _ := chromedp.Run(b, chromedp.Value("#campaign-name")); !strings.Contains(v, text["again"]) {
		t.Fatalf("send-again name %q", v)
	}
	screenshot(t, b, "8-send-again")
}

func loadShanghai() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
