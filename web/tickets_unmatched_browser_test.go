package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestUnmatchedTicketReplyInBrowser answers an unknown sender's ticket in
// Chromium, in zh-CN and in en: the reply box says where the reply goes
// (the sender's phone, masked), sends through the devbox, and the reply
// shows in the conversation; linking the ticket with the offered binding
// ties the sender's phone to the customer.
func TestUnmatchedTicketReplyInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, c := range []struct{ locale, to, bind, sent string }{
		{"zh-CN", "回复将发送到发送人的", "同时将发送人的地址绑定到该客户", "收到"},
		{"en", "the reply goes to the sender at", "Also bind the sender's address", "Got it"},
	} {
		t.Run(c.locale, func(t *testing.T) {
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
			ctx := context.Background()
			m := &staff.Member{Email: "agent@example.com", Name: "agent", Role: staff.Agent, Locale: c.locale}
			if err := a.staff.CreateMember(ctx, m, testPassword, "test"); err != nil {
				t.Fatal(err)
			}
			id := a.inbound(channels.Devbox, "", "+8613600001234", "我的订单在哪？")

			b := newBrowser(t, desktopWidth, desktopHeight)
			do := steps(t, b)
			do("sign in", chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", m.Email),
				chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#queue-empty, #row-"+id))
			do("open", chromedp.Navigate(a.url+"/tickets/"+id), chromedp.WaitVisible("#reply-form"), chromedp.WaitVisible("#link-bind"))
			hint, _ := chromedp.Run(b, chromedp.Text("#reply-to-sender"))
			if !strings.Contains(hint, c.to) || !strings.Contains(hint, "****") || strings.Contains(hint, "13600001234") {
				t.Fatalf("reply hint = %q", hint)
			}
			form, _ := chromedp.Run(b, chromedp.Text("#link-form"))
			if !strings.Contains(form, c.bind) {
				t.Fatalf("link form = %q", form)
			}
			screenshot(t, b, "1-unmatched-ticket")
			do("reply", chromedp.SendKeys("#reply-text", c.sent), chromedp.Click("#send-reply"), chromedp.WaitVisible(`.msg-out`))
			out, _ := chromedp.Run(b, chromedp.Text(".msg-out"))
			if !strings.Contains(out, c.sent) {
				t.Fatalf("sent message = %q", out)
			}
			screenshot(t, b, "2-replied")
			if sent, _ := a.devbox.Find(ctx, "", 10); len(sent) != 1 || sent[0].Text != c.sent {
				t.Fatalf("devbox: %+v", sent)
			}

			// The agent recognises 赵六 and links the ticket, binding the
			// phone they wrote from: the customer panel appears, and the
			// phone now finds 赵六.
			a.importAndWait(a.tokenFor(staff.Admin), []byte("姓名,邮箱\n赵六,zhao@example.com\n"))
			do("link and bind", chromedp.SendKeys("#link-customer", "zhao@example.com"), chromedp.Click("#link-bind"), chromedp.Click("#link"),
				chromedp.WaitVisible("#customer-facts"))
			screenshot(t, b, "3-linked-and-bound")
			if got, _ := a.customers.MatchContact(ctx, "", "+8613600001234", ""); got == "" {
				t.Fatal("the sender's phone is not bound to the customer")
			}
		})
	}
}
