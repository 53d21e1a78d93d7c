package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// recordCSPViolations collects the page's CSP violations in
// window.__csp (a DevTools script, itself outside the CSP).
const recordCSPViolations = `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`

// TestQueueMonitorInBrowser: an admin opens /admin/queues on the embedded
// defaults and sees the queues listed; under its CSP the only thing
// blocked is Google Fonts.
func TestQueueMonitorInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	if _, err := a.queue.Client.Enqueue(asynq.NewTask("test:noop", nil), asynq.Queue("monitor_browser")); err != nil {
		t.Fatal(err)
	}
	_, email := a.staffMember(staff.Admin, "queues-admin")
	b := newBrowser(t, desktopWidth, desktopHeight)
	ctx, cancel := context.WithTimeout(b, time.Minute)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
		_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordCSPViolations})
		return err
	}), chromedp.Navigate(a.url+"/admin/queues"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", email),
		chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#root"),
		chromedp.Poll[chromedp.Void](`document.body.innerText.includes("monitor_browser")`, chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		t.Error(err)
		got, _ := chromedp.Run(b, chromedp.Evaluate[[]string](`window.__csp`))
		t.Errorf("CSP violations: %q", got)
		screenshot(t, b, "failed")
		t.FailNow()
	}
	screenshot(t, b, "queues")
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range violations {
		if !strings.Contains(v, "fonts.googleapis.com") {
			t.Errorf("CSP blocked %s", v)
		}
	}
}
