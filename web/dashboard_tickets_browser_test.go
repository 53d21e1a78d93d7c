package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestDashboardTicketsInBrowser works the queue in Chromium at a desktop
// viewport: a devbox reply appears in the open queue without reload
// (server-sent events), j and Enter open it, a colleague opening it shows
// a collision notice, r and the reply box answer through the devbox, e
// resolves it; then a correction is approved.
func TestDashboardTicketsInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	customerID := a.oneCustomer()
	correctionID := a.correction(customerID, "杭州市西湖区文三路1号")
	_, email := a.staffMember(staff.Agent, "agent")
	_, colleague := a.staffMember(staff.Agent, "小王")

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
	must("sign in", do(chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#queue-empty"),
		chromedp.WaitVisible(`body[data-live="on"]`)))
	screenshot(t, b, "1-queue-empty")
	if _, err := chromedp.Run(b, chromedp.Evaluate[int](`window.__sameLoad = 1`)); err != nil {
		t.Fatal(err)
	}

	// The customer answers through the devbox; the row arrives live.
	id := a.inbound(channels.Devbox, customerID, "", "请问新公司的客服电话是多少?")
	must("live row", do(chromedp.WaitVisible("#row-"+id)))
	same, _ := chromedp.Run(b, chromedp.Evaluate[bool](`window.__sameLoad === 1`))
	if !same {
		t.Fatal("the page reloaded; the row should arrive by server-sent event")
	}
	row, _ := chromedp.Run(b, chromedp.Text("#row-"+id))
	if !strings.Contains(row, "张*") || strings.Contains(row, "张三") || !strings.Contains(row, "客服电话") {
		t.Fatalf("live row = %q", row)
	}
	if n, _ := chromedp.Run(b, chromedp.Text("#count-open")); n != "1" {
		t.Fatalf("open count after the live row = %q", n)
	}
	screenshot(t, b, "2-queue-live-row")

	must("open", do(chromedp.KeyEvent("j"), chromedp.KeyEvent("\r"), chromedp.WaitVisible("#reply-form"),
		chromedp.WaitVisible(`body[data-live="on"]`)))
	screenshot(t, b, "3-ticket")

	// A colleague opens the same ticket: a collision notice appears.
	cw := a.newWebClient()
	cw.login(colleague, testPassword)
	cw.get("/tickets/" + id)
	req, _ := http.NewRequest(http.MethodPost, a.url+"/tickets/"+id+"/viewing", nil)
	req.Header.Set("X-CSRF-Token", cw.csrf)
	if resp, _ := cw.send(req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("viewing: %d", resp.StatusCode)
	}
	must("collision", do(chromedp.WaitVisible("#collision")))
	notice, _ := chromedp.Run(b, chromedp.Text("#collision"))
	if !strings.Contains(notice, "小王") {
		t.Fatalf("collision notice = %q", notice)
	}
	screenshot(t, b, "4-collision")

	// r focuses the reply box.
	must("r", do(chromedp.KeyEvent("r")))
	focused, _ := chromedp.Run(b, chromedp.Evaluate[string](`document.activeElement.id`))
	if focused != "reply-text" {
		t.Fatalf("r focused %q", focused)
	}
	// CDP delivers the key's character apart from its keydown (see
	// TestDashboardInBrowser): clear the "r" it typed.
	if _, err := chromedp.Run(b, chromedp.Evaluate[string](`document.getElementById("reply-text").value = ""`)); err != nil {
		t.Fatal(err)
	}
	must("reply", do(chromedp.SendKeys("#reply-text", "您好,新客服电话是 400-800-1234。"), chromedp.Click("#send-reply"),
		chromedp.WaitVisible(".msg-out")))
	sent, err := a.devbox.Find(ctx, "", 10)
	if err != nil || len(sent) != 1 || sent[0].Text != "您好,新客服电话是 400-800-1234。" {
		t.Fatalf("devbox after the reply: %+v, %v", sent, err)
	}
	screenshot(t, b, "5-replied")

	// e resolves.
	must("resolve", do(chromedp.KeyEvent("e"), chromedp.WaitVisible(`#ticket-status.st-resolved`)))
	if tk, _ := a.tickets.FindTicketByID(ctx, id); tk.Status != feedback.StatusResolved {
		t.Fatalf("status after e = %s", tk.Status)
	}
	screenshot(t, b, "6-resolved")

	must("corrections", do(chromedp.Navigate(a.url+"/corrections"), chromedp.WaitVisible("#correction-"+correctionID)))
	screenshot(t, b, "7-correction")
	must("approve", do(chromedp.Click("#correction-"+correctionID+" .approve"), chromedp.WaitVisible("#corrections-none")))
	if cu, _ := a.customers.FindCustomerByID(ctx, customerID); cu.Address != "杭州市西湖区文三路1号" {
		t.Fatalf("address after approval = %q", cu.Address)
	}
	screenshot(t, b, "8-correction-approved")
}

// TestDashboardTicketPayloadInert: a customer's message carrying markup
// renders as text in the queue (including a row added live) and in the
// conversation, checked in Chromium.
func TestDashboardTicketPayloadInert(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	customerID := a.oneCustomer()
	_, email := a.staffMember(staff.Agent, "agent")
	payload := `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>`

	b := newBrowser(t, desktopWidth, desktopHeight)
	ctx, cancel := context.WithTimeout(b, 30*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible(`body[data-live="on"]`))
	if err != nil {
		screenshot(t, b, "failed")
		t.Fatal(err)
	}
	id := a.inbound(channels.Devbox, customerID, "", payload)
	inert := func(where string) {
		t.Helper()
		fired, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__xss !== undefined || document.querySelector("main img, main script") !== null`))
		if err != nil || fired {
			screenshot(t, b, "failed-"+where)
			t.Fatalf("%s: the payload became markup (fired=%t, %v)", where, fired, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#row-"+id)); err != nil {
		t.Fatal(err)
	}
	inert("live row")
	if err := chromedp.Do(ctx, chromedp.Navigate(a.url+"/tickets/"+id), chromedp.WaitVisible("#messages")); err != nil {
		t.Fatal(err)
	}
	inert("conversation")
	text, _ := chromedp.Run(ctx, chromedp.Text("#messages pre.message"))
	if text != payload {
		t.Fatalf("message shown as %q; want the payload as text", text)
	}
	screenshot(t, b, "payload-as-text")
}
