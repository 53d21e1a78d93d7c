package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// TestDashboardInBrowser walks the dashboard in Chromium at a desktop
// viewport: sign in, find a customer with the keyboard, reveal them with a
// reason, start and pause a campaign.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		t.Fatalf("default template: %v", err)
	}
	var cp struct{ ID string }
	a.postJSON("/api/v1/campaigns", token, fmt.Sprintf(`{"name":"转让告知","transfer_id":%q,"kind":"transfer_notice","channels":["devbox"],"templates":{"devbox":%q}}`,
		tr.ID, list[0].ID), &cp)
	_, email := a.staffMember(staff.Admin, "admin")

	b := newBrowser(t, desktopWidth, desktopHeight)
	do := func(steps ...chromedp.Action[chromedp.Void]) error {
		ctx, cancel := context.WithTimeout(b, 20*time.Second)
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
	must("sign in", do(chromedp.Navigate(a.url+"/"), chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", email), chromedp.SendKeys("#password", testPassword)))
	screenshot(t, b, "1-login")
	must("sign in", do(chromedp.Click("#sign-in"), chromedp.WaitVisible("#search")))
	screenshot(t, b, "2-tickets")

	// The script runs under the strict CSP: ? opens the shortcuts.
	must("shortcuts", do(chromedp.KeyEvent("?")))
	open, err := chromedp.Run(b, chromedp.Evaluate[bool](`document.getElementById("shortcuts").open`))
	if err != nil || !open {
		t.Fatalf("? did not open the shortcuts (script blocked?): %v", err)
	}
	screenshot(t, b, "3-shortcuts")
	must("close shortcuts", do(chromedp.KeyEvent("\x1b")))

	// / focuses the search; a phone number finds the customer, masked.
	must("search", do(chromedp.KeyEvent("/")))
	focused, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "search" {
		t.Fatalf("/ focused %q; want the search box", focused)
	}
	// CDP delivers the key's character apart from its keydown, so the
	// script's preventDefault cannot stop the "/" landing in the box as it
	// does for a real keyboard: clear it.
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById("search").value = ""`)); err != nil {
		t.Fatal(err)
	}
	must("search", do(chromedp.KeyEvent("138 1234 5678\r"), chromedp.WaitVisible("#customers")))
	rows, _ := chromedp.Run(b, chromedp.Text("#customers tbody"))
	if !strings.Contains(rows, "张*") || strings.Contains(rows, "张三") {
		t.Fatalf("search result = %q; want 张三 masked", rows)
	}
	screenshot(t, b, "4-search")

	// j selects the row, Enter opens it.
	must("open customer", do(chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#reveal-form")))
	screenshot(t, b, "5-customer-masked")
	must("reveal", do(chromedp.SendKeys("#reveal-reason", "客户来电核对地址"), chromedp.Click("#reveal"),
		chromedp.WaitVisible("#revealed")))
	name, _ := chromedp.Run(b, chromedp.Text("#customer-name"))
	if name != "张三" {
		t.Fatalf("revealed name = %q", name)
	}
	if entries := a.auditActions("customer.reveal"); len(entries) != 1 || !strings.Contains(entries[0].Detail, "客户来电核对地址") {
		t.Fatalf("reveal audit = %+v", entries)
	}
	screenshot(t, b, "6-customer-revealed")

	must("campaign", do(chromedp.Navigate(a.url+"/campaigns"), chromedp.WaitVisible("#campaigns")))
	screenshot(t, b, "7-campaigns")
	must("start", do(chromedp.Navigate(a.url+"/campaigns/"+cp.ID), chromedp.WaitVisible("#start"),
		chromedp.Click("#start"), chromedp.WaitVisible("#pause")))
	total, _ := chromedp.Run(b, chromedp.Text("#progress-total"))
	if total != "2" {
		t.Fatalf("progress total = %q; want 2 deliveries", total)
	}
	screenshot(t, b, "8-campaign-running")
	must("pause", do(chromedp.Click("#pause"), chromedp.WaitVisible("#resume")))
	status, _ := chromedp.Run(b, chromedp.Text("#campaign-status"))
	if status != "已暂停" {
		t.Fatalf("status after pause = %q", status)
	}
	screenshot(t, b, "9-campaign-paused")

	// Resumed with a worker running, the page follows the campaign to the
	// end by itself (the script polls its progress).
	must("resume", do(chromedp.Click("#resume"), chromedp.WaitVisible("#pause")))
	a.startWorker()
	must("live progress", do(chromedp.WaitVisible(`#live[data-status="completed"]`)))
	done, _ := chromedp.Run(b, chromedp.Text("#progress-done"))
	if done != "2" {
		t.Fatalf("progress after completion = %q; want 2", done)
	}
	screenshot(t, b, "10-campaign-completed")
	if len(a.auditActions("campaign.start")) != 1 || len(a.auditActions("campaign.pause")) != 1 {
		t.Fatal("start and pause are not audited")
	}
}

// TestDashboardPayloadInert: personal data that carries markup renders as
// text in Chromium (html/template escapes it; the CSP would also block an
// inline handler), checked in the browser, not by string compare.
func TestDashboardPayloadInert(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	payload := `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`
	a.importAndWait(a.tokenFor(staff.Admin), []byte("姓名,手机,公司\n\""+strings.ReplaceAll(payload, `"`, `""`)+"\",13812345678,\"<svg onload=window.__xss=3>\"\n"))
	_, email := a.staffMember(staff.Agent, "agent")
	w := a.newWebClient()
	w.login(email, testPassword)
	_, body := w.get("/customers?q=13812345678")
	id := between(body, `<a href="/customers/`, `"`)
	if id == "" {
		t.Fatalf("customer not found\n%s", body)
	}

	b := newBrowser(t, desktopWidth, desktopHeight)
	ctx, cancel := context.WithTimeout(b, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#search"),
		chromedp.Navigate(a.url+"/customers/"+id), chromedp.WaitVisible("#reveal-form"),
		chromedp.SendKeys("#reveal-reason", "安全测试"), chromedp.Click("#reveal"), chromedp.WaitVisible("#revealed"))
	if err != nil {
		screenshot(t, b, "failed")
		t.Fatal(err)
	}
	screenshot(t, b, "revealed-payload")
	fired, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__xss !== undefined || document.querySelector("main img, main script:not([src]), main svg[onload]") !== null`))
	if err != nil || fired {
		t.Fatalf("the payload became markup (fired=%t, %v)", fired, err)
	}
	name, _ := chromedp.Run(ctx, chromedp.Text("#customer-name"))
	if name != payload {
		t.Fatalf("name shown as %q; want the payload as text", name)
	}
}
