package web_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue/queuetest"
)

// A current phone's viewport (390×844), for the opt-out grid.
const wideWidth, wideHeight = 390, 844

// TestPortalOptOutAndSurveyBrowser, in headless Chromium at a phone's
// size in zh-CN and en: the CSAT survey shows 1–5 and stores a CSAT
// score, the NPS survey 0–10 and an NPS score; the opt-out page ticks
// channels × kinds, says the required notices cannot be stopped, saves
// exactly the ticked boxes and shows them ticked again.
func TestPortalOptOutAndSurveyBrowser(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx := context.Background()
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_COMPANY_NAME=华东五金", "HANDOVER_COMPANY_CONTACT=400-111-2222")
			ids, transfer := a.seedPortal()
			b := newBrowser(t, wideWidth, wideHeight)
			step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(b, actions...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				screenshot(t, b, name)
			}
			score := func(token, column string) int {
				t.Helper()
				var n int
				if err := a.db.QueryRowContext(ctx, `SELECT COALESCE(a.`+column+`, -1) FROM survey_answers a JOIN links l ON l.id = a.link_id
					WHERE l.token_hash = $1`, links.HashToken(token)).Scan(&n); err != nil {
					t.Fatalf("%s answer: %v", column, err)
				}
				return n
			}
			csat := a.surveyLink(ids[0], transfer, links.Survey{CSAT: true})
			step("csat", chromedp.Navigate(a.url+"/l/"+csat+"/survey?lang="+lang), chromedp.WaitVisible("#csat-5"))
			if n, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name=nps]').length`)); err != nil || n != 0 {
				t.Fatalf("the CSAT survey shows %d NPS choices, %v", n, err)
			}
			step("csat-answered", chromedp.Click("#csat-4 + span"), chromedp.Click("#submit"), chromedp.WaitVisible("#result"))
			if n := score(csat, "csat"); n != 4 || score(csat, "nps") != -1 {
				t.Fatalf("stored CSAT %d", n)
			}
			nps := a.surveyLink(ids[0], transfer, links.Survey{NPS: true})
			step("nps", chromedp.Navigate(a.url+"/l/"+nps+"/survey"), chromedp.WaitVisible("#nps-10"))
			if n, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('input[name=csat]').length`)); err != nil || n != 0 {
				t.Fatalf("the NPS survey shows %d CSAT choices, %v", n, err)
			}
			step("nps-answered", chromedp.Click("#nps-10 + span"), chromedp.Click("#submit"), chromedp.WaitVisible("#result"))
			if n := score(nps, "nps"); n != 10 || score(nps, "csat") != -1 {
				t.Fatalf("stored NPS %d", n)
			}

			token, _ := a.issue(ids[0], transfer)
			base := a.url + "/l/" + token
			step("optout", chromedp.Navigate(base+"/optout"), chromedp.WaitVisible("#o-email-service"))
			note, err := chromedp.Run(b, chromedp.Text("#optout-required"))
			if err != nil || !strings.Contains(note, map[string]string{"zh": "第五十七条", "en": "Art. 57"}[lang]) {
				t.Fatalf("required-notice note %q, %v", note, err)
			}
			step("optout-ticked", chromedp.Click("#o-sms-promotional"), chromedp.Click("#o-sms-survey"), chromedp.Click("#o-email-survey"))
			step("optout-saved", chromedp.Click("#optout"), chromedp.WaitVisible("#result"))
			detail, err := chromedp.Run(b, chromedp.Text(".result .intro"))
			want := map[string]string{"zh": "已退订：短信的推广消息、满意度调查；电子邮件的满意度调查。", "en": "Stopped: SMS: promotional messages, surveys; Email: surveys."}[lang]
			if err != nil || !strings.Contains(detail, want) {
				t.Fatalf("result %q, %v; want %q", detail, err, want)
			}
			got, _ := a.customers.OptOuts(ctx, ids[0])
			if !slices.Equal(got, []customers.OptOut{{Channel: channels.SMS, Kind: customers.OptOutPromotional},
				{Channel: channels.SMS, Kind: customers.OptOutSurvey}, {Channel: channels.Email, Kind: customers.OptOutSurvey}}) {
				t.Fatalf("opt-outs %v", got)
			}
			step("optout-again", chromedp.Click(".result a.btn"), chromedp.WaitVisible("#o-sms-survey"))
			ticked, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('input[name=o]:checked')].map(e => e.value)`))
			if err != nil || !slices.Equal(ticked, []string{"sms:promotional", "sms:survey", "email:survey"}) {
				t.Fatalf("ticked again %v, %v", ticked, err)
			}
		})
	}
}
