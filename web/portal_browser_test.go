package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestPortalBrowser walks a customer through the portal in headless
// Chromium at a phone's size, in zh-CN and in en: read the notice, grant
// consent, withdraw it, answer the survey, opt out of SMS; a screenshot
// per step.
func TestPortalBrowser(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_COMPANY_NAME=华东五金", "HANDOVER_COMPANY_CONTACT=400-111-2222")
			ids, transfer := a.seedPortal()
			token, _ := a.issue(ids[0], transfer)
			ctx := newBrowser(t, phoneWidth, phoneHeight)
			base := a.url + "/l/" + token
			step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				screenshot(t, ctx, name)
			}
			step("notice", chromedp.Navigate(base+"?lang="+lang), chromedp.WaitVisible("#go-consent"))
			title, err := chromedp.Run(ctx, chromedp.Text("h1"))
			if err != nil || (lang == "en") != strings.Contains(title, "Notice of transfer") {
				t.Fatalf("notice title %q, %v", title, err)
			}
			step("consent", chromedp.Click("#go-consent"), chromedp.WaitVisible("#p0-grant"), chromedp.Click("#p0-grant"), chromedp.Click("#p1-grant"))
			step("review", chromedp.Click("#next"), chromedp.WaitVisible("#confirm"))
			step("granted", chromedp.Click("#confirm"), chromedp.WaitVisible("#result"))
			expectConsent(t, a, ids[0], transfer, customers.ConsentGranted)

			step("withdraw", chromedp.Navigate(base+"/consent"), chromedp.WaitVisible("#p0-decline"), chromedp.Click("#p0-decline"),
				chromedp.Click("#next"), chromedp.WaitVisible("#confirm"))
			step("withdrawn", chromedp.Click("#confirm"), chromedp.WaitVisible("#result"))
			expectConsent(t, a, ids[0], transfer, customers.ConsentWithdrawn)

			step("survey", chromedp.Navigate(base+"/survey"), chromedp.WaitVisible("#submit"), chromedp.Click("#nps-9 + span"),
				chromedp.SendKeys("#text", "服务很好 / great service"))
			step("surveyed", chromedp.Click("#submit"), chromedp.WaitVisible("#result"))
			var answers int
			a.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM survey_answers WHERE customer_id = $1 AND nps = 9`, ids[0]).Scan(&answers)
			if answers != 1 {
				t.Fatalf("survey answers = %d", answers)
			}

			step("optout", chromedp.Navigate(base+"/optout"), chromedp.WaitVisible("#optout"), chromedp.Click("#o-sms-promotional"))
			step("optedout", chromedp.Click("#optout"), chromedp.WaitVisible("#result"))
			if got, _ := a.customers.OptOuts(context.Background(), ids[0]); len(got) != 1 || got[0].Channel != "sms" || got[0].Kind != customers.OptOutPromotional {
				t.Fatalf("opt-outs = %v", got)
			}
			step("gone", chromedp.Navigate(a.url+"/l/AAAAAAAAAAAAAA"), chromedp.WaitVisible("h1"))
		})
	}
}

func expectConsent(t *testing.T, a *app, customer, transfer, want string) {
	t.Helper()
	state, err := a.customers.ConsentState(context.Background(), customer, transfer)
	if err != nil || state["订单履行"] != want {
		t.Fatalf("consent state %v, %v; want 订单履行 %s", state, err, want)
	}
}
