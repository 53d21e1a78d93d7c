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
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestAgentDayInBrowser walks the service agent's day in Chromium, in
// zh-CN and in en: sign in, search the queue by phone, open the ticket
// and read the customer panel (consent, opt-outs, corrections, the
// campaign message and that it was opened), reply (which assigns the
// ticket), watch the queue's counts move live as a new ticket arrives,
// bulk-resolve, reject a correction with a reason, and see the reason
// reach the customer: in the devbox and on their portal details page on a
// phone.
func TestAgentDayInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, c := range []struct {
		locale, portalLang                                       string
		opened, consent, optout, replied, resolved, told, portal string
	}{
		{"zh-CN", "zh", "已打开", "同意", "营销消息", "收到，正在处理", "已处理工单数： 2", "原因已发送给客户", "原因："},
		{"en", "en", "Opened", "Agreed", "Marketing", "Got it, on it", "Tickets changed: 2", "the reason was sent to the customer", "Reason:"},
	} {
		t.Run(c.locale, func(t *testing.T) {
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
			ctx := context.Background()
			admin := a.tokenFor(staff.Admin)
			a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n李四,13900001111\n"))
			zhang, li := a.customerByPhone("13812345678"), a.customerByPhone("13900001111")
			a.sendNotice(admin)
			sent, _ := a.devbox.Find(ctx, "", 10)
			link := ""
			for _, m := range sent {
				if m.CustomerID == zhang {
					link = strings.TrimRight("/l/"+between(m.Text, "/l/", " "), "。.")
				}
			}
			if code, _ := a.visitor().get(link); code != http.StatusOK && code != http.StatusSeeOther {
				t.Fatalf("open %q: %d", link, code)
			}
			a.grantAndOptOut(zhang)
			correction := a.correction(zhang, "上海市浦东新区世纪大道100号")
			mine := a.inbound(channels.Devbox, zhang, "", "我要改地址，请帮忙")
			theirs := a.inbound(channels.Devbox, li, "", "发票什么时候开？")
			m := &staff.Member{Email: "agent@example.com", Name: "Agent Wu", Role: staff.Agent, Locale: c.locale}
			if err := a.staff.CreateMember(ctx, m, testPassword, "test"); err != nil {
				t.Fatal(err)
			}

			b := newBrowser(t, desktopWidth, desktopHeight)
			do := steps(t, b)
			text := func(sel string) string {
				t.Helper()
				s, err := chromedp.Run(b, chromedp.Text(sel))
				if err != nil {
					t.Fatalf("text of %s: %v", sel, err)
				}
				return s
			}
			waitFor := func(step, expr string) {
				t.Helper()
				ctx, cancel := context.WithTimeout(b, 20*time.Second)
				defer cancel()
				if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr)); err != nil {
					screenshot(t, b, "failed-"+step)
					t.Fatalf("%s: %v", step, err)
				}
			}

			do("sign in", chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", m.Email),
				chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#row-"+mine))
			screenshot(t, b, "1-queue")

			do("search", chromedp.SendKeys("#ticket-search", "13812345678"), chromedp.Click("#apply-filter"), chromedp.WaitVisible("#search-note"))
			if q := text("#queue"); strings.Contains(q, "发票") || !strings.Contains(q, "我要改地址") {
				t.Fatalf("search by phone shows %q", q)
			}
			screenshot(t, b, "2-search-by-phone")

			do("open", chromedp.Click("#row-"+mine+" a"), chromedp.WaitVisible("#customer-facts"))
			panel := text("#customer-facts")
			for _, want := range []string{c.opened, c.consent, c.optout, "订单履行", "世纪大道"} {
				if strings.Contains(panel, want) != (want != "世纪大道") {
					t.Fatalf("panel %q: want %q shown=%t", panel, want, want != "世纪大道")
				}
			}
			if reason := text("#channel-reason"); reason == "" || strings.Contains(reason, "last used") && c.locale == "zh-CN" {
				t.Fatalf("channel reason %q", reason)
			}
			screenshot(t, b, "3-ticket-with-customer-panel")

			do("reply", chromedp.SendKeys("#reply-text", c.replied), chromedp.Click("#send-reply"), chromedp.WaitVisible(".msg-out"))
			if got := text("#ticket-assignee"); !strings.Contains(got, "Agent Wu") {
				t.Fatalf("after the reply the assignee is %q", got)
			}
			screenshot(t, b, "4-replied-and-assigned")

			// The queue's counts move live when a new ticket arrives.
			do("queue", chromedp.Navigate(a.url+"/tickets"), chromedp.WaitVisible("#row-"+theirs))
			waitFor("live", `document.body.dataset.live === "on"`)
			before := text("#count-open")
			fresh := a.inbound(channels.Devbox, "", "+8613600009999", "你好")
			waitFor("live counts", `document.getElementById("count-open").textContent !== "`+before+`"`)
			do("live row", chromedp.WaitVisible("#row-"+fresh))
			screenshot(t, b, "5-live-counts")

			do("bulk resolve", chromedp.Click(`#row-`+theirs+` input[name=id]`), chromedp.Click(`#row-`+fresh+` input[name=id]`),
				chromedp.Click("#bulk-resolve"), chromedp.WaitVisible("#bulk-result"))
			if got := text("#bulk-result"); !strings.Contains(got, c.resolved) {
				t.Fatalf("bulk result %q", got)
			}
			screenshot(t, b, "6-bulk-resolved")

			do("reject", chromedp.Navigate(a.url+"/corrections"), chromedp.WaitVisible("#correction-"+correction),
				chromedp.SendKeys("#correction-"+correction+" .reject-form textarea", "地址不完整，请补充门牌号 / incomplete address"),
				chromedp.Click("#correction-"+correction+" .reject-form button"), chromedp.WaitVisible(".flash"))
			if got := text(".flash"); !strings.Contains(got, c.told) {
				t.Fatalf("flash %q", got)
			}
			screenshot(t, b, "7-correction-rejected")
			if out, _ := a.devbox.Find(ctx, "", 20); !strings.Contains(out[0].Text, "incomplete address") || out[0].CustomerID != zhang {
				t.Fatalf("the customer's devbox: %+v", out[0])
			}

			// The customer, on their phone, sees why.
			p := newBrowser(t, 390, 844)
			pctx, cancel := context.WithTimeout(p, 20*time.Second)
			defer cancel()
			if err := chromedp.Do(pctx, chromedp.Navigate(a.url+link+"/details?lang="+c.portalLang), chromedp.WaitVisible("#rejected-reason")); err != nil {
				screenshot(t, p, "failed-portal")
				t.Fatal(err)
			}
			got, _ := chromedp.Run(p, chromedp.Text("#rejected-request"))
			if !strings.Contains(got, c.portal) || !strings.Contains(got, "incomplete address") {
				t.Fatalf("portal says %q", got)
			}
			screenshot(t, p, "8-portal-details-rejected")
		})
	}
}
