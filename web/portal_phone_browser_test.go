package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// The phone the portal is checked on: WeChat's browser on a 6.1" phone.
const wechatWidth, wechatHeight = 390, 844

// axeSource is axe-core 4.10.3 from the npm registry (MPL-2.0; its licence
// is web/testdata/axe-core/LICENSE), vendored as its one axe.min.js file.
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("testdata", "axe-core", "axe.min.js"))
	return string(b), err
})

type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

func (v axeViolation) String() string {
	return fmt.Sprintf("%s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
}

// runAxe injects axe-core into the page (through the DevTools protocol,
// which the page's CSP does not govern) and returns its violations.
func runAxe(t *testing.T, ctx context.Context) []axeViolation {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		t.Fatalf("axe-core: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](src+";\ntrue")); err != nil {
		t.Fatalf("inject axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {resultTypes: ["violations"]}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))})))`,
		chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe.run: %v", err)
	}
	return out
}

// serious keeps the violations axe rates serious or critical.
func serious(vs []axeViolation) []string {
	var out []string
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			out = append(out, v.String())
		}
	}
	return out
}

type box struct{ Top, Bottom, Left, Right float64 }

// rect is an element's box in the viewport.
func rect(t *testing.T, ctx context.Context, sel string) box {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.Evaluate[box](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })()`, sel)))
	if err != nil {
		t.Fatalf("box of %s: %v", sel, err)
	}
	return b
}

// TestPortalOnAPhone walks every portal page at 390×844 in zh-CN and en
// with the default configuration (no company name or contact): a
// screenshot and an axe-core check (no serious or critical violation) per
// page; the menu fits the screen with the current tab marked; the notice's
// and the consent form's one action is on screen without scrolling; "Check
// your details" shows the customer their own details in full after a code
// (and audits it as their access); "my data" names its time zone; an
// expired or withdrawn link names how to reach the company.
func TestPortalOnAPhone(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
			ctx := context.Background()
			ids, transfer := a.seedPortal()
			token, l := a.issue(ids[0], transfer)
			browser := newBrowser(t, wechatWidth, wechatHeight)
			base := a.url + "/l/" + token
			visit := func(name string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(browser, actions...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				screenshot(t, browser, name)
				all := runAxe(t, browser)
				for _, v := range all {
					t.Logf("%s: axe-core (%s) %s", name, v.Impact, v)
				}
				if bad := serious(all); len(bad) > 0 {
					t.Errorf("%s: axe-core finds:\n  %s", name, strings.Join(bad, "\n  "))
				}
				if got, _ := chromedp.Run(browser, chromedp.Evaluate[string](`document.documentElement.lang`)); got != map[string]string{"zh": "zh-CN", "en": "en"}[lang] {
					t.Errorf("%s: <html lang=%q>", name, got)
				}
			}
			onScreen := func(name, sel string) {
				t.Helper()
				if b := rect(t, browser, sel); b.Top < 0 || b.Bottom > wechatHeight || b.Left < 0 || b.Right > wechatWidth {
					t.Errorf("%s: %s is at %+v, outside the %dx%d screen", name, sel, b, wechatWidth, wechatHeight)
				}
			}

			visit("notice", chromedp.Navigate(base+"?lang="+lang), chromedp.WaitVisible("#go-consent"))
			onScreen("notice", "#go-consent")
			tabs, err := chromedp.Run(browser, chromedp.Evaluate[[]box](`[...document.querySelectorAll("nav.tabs a")].map(a => {
				const r = a.getBoundingClientRect(); return {top: r.top, bottom: r.bottom, left: r.left, right: r.right}; })`))
			if err != nil || len(tabs) != 7 {
				t.Fatalf("tabs: %v, %v", tabs, err)
			}
			for i, b := range tabs {
				if b.Left < 0 || b.Right > wechatWidth || b.Bottom-b.Top < 44 {
					t.Errorf("tab %d at %+v: off the screen or smaller than a 44px tap target", i, b)
				}
			}
			if current, _ := chromedp.Run(browser, chromedp.Evaluate[string](`document.querySelector("nav.tabs a[aria-current=page]")?.getAttribute("href") || ""`)); current != "/l/"+token {
				t.Errorf("current tab on the notice: %q", current)
			}

			visit("consent", chromedp.Navigate(base+"/consent"), chromedp.WaitVisible("#next"))
			onScreen("consent", "#next")
			visit("consent-review", chromedp.Click("#p0-grant"), chromedp.Click("#p1-decline"), chromedp.Click("#next"), chromedp.WaitVisible("#confirm"))
			visit("consent-result", chromedp.Click("#confirm"), chromedp.WaitVisible("#result"))
			visit("survey", chromedp.Navigate(base+"/survey"), chromedp.WaitVisible("#submit"))
			visit("contact", chromedp.Navigate(base+"/contact"), chromedp.WaitVisible("#text"))
			visit("optout", chromedp.Navigate(base+"/optout"), chromedp.WaitVisible("#optout"))

			// Check your details: masked, then in full after a code.
			visit("details", chromedp.Navigate(base+"/details"), chromedp.WaitVisible("#show-full"))
			if name, _ := chromedp.Run(browser, chromedp.Text("#held-name")); !strings.HasPrefix(name, "张*") {
				t.Errorf("details before the code show %q", name)
			}
			visit("details-send-code", chromedp.Click("#show-full"), chromedp.WaitVisible("#send-code"))
			visit("details-code", chromedp.Click("#send-code"), chromedp.WaitVisible("#code"))
			code, _, _ := a.lastCode()
			visit("details-full", chromedp.SendKeys("#code", code), chromedp.Click("#confirm-code"), chromedp.WaitVisible("#held-name"))
			name, _ := chromedp.Run(browser, chromedp.Text("#held-name"))
			phone, _ := chromedp.Run(browser, chromedp.Text("#held-phone"))
			if name != "张三" || phone != "+8613812345678" {
				t.Errorf("details after the code show %q, %q; want them in full", name, phone)
			}
			own := false
			for _, e := range a.auditActions("customer.reveal") {
				own = own || e.Actor == "customer:"+ids[0] && e.ObjectID == ids[0]
			}
			if !own {
				t.Error("the customer's own reveal is not audited as theirs")
			}
			visit("details-propose", chromedp.SendKeys("#address", "上海市浦东新区世纪大道100号"), chromedp.Click("#propose"), chromedp.WaitVisible("#result"))

			visit("mydata", chromedp.Navigate(base+"/mydata"), chromedp.WaitVisible("#mydata"))
			if zone, _ := chromedp.Run(browser, chromedp.Text("#zone")); !strings.Contains(zone, "Asia/Shanghai") {
				t.Errorf("my data names no time zone: %q", zone)
			}
			fresh, _ := a.issue(ids[1], transfer)
			visit("mydata-start", chromedp.Navigate(a.url+"/l/"+fresh+"/mydata"), chromedp.WaitVisible("#send-code"))
			visit("mydata-code", chromedp.Click("#send-code"), chromedp.WaitVisible("#code"))

			// A withdrawn link, with no company contact configured, names the
			// transfer's buyer and contact.
			if _, err := a.links.Revoke(ctx, l.ID, "staff:test"); err != nil {
				t.Fatal(err)
			}
			visit("gone-withdrawn", chromedp.Navigate(base), chromedp.WaitVisible("h1"))
			if text, _ := chromedp.Run(browser, chromedp.Text("main")); !strings.Contains(text, "400-800-1234") || !strings.Contains(text, "江南商贸有限公司") {
				t.Errorf("a withdrawn link names no contact:\n%s", text)
			}
			visit("gone-unknown", chromedp.Navigate(a.url+"/l/AAAAAAAAAAAAAA"), chromedp.WaitVisible("h1"))
		})
	}
}

// TestDashboardAxe runs axe-core on the main dashboard pages at desktop
// size and fails on serious or critical violations; a screenshot each.
func TestDashboardAxe(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	seed := seedLanguage(t, a)
	ctx := context.Background()
	m := &staff.Member{Email: "axe@example.com", Name: "审计", Role: staff.Admin, Locale: "zh-CN", TimeZone: "Asia/Shanghai"}
	if err := a.staff.CreateMember(ctx, m, testPassword, "test"); err != nil {
		t.Fatal(err)
	}
	browser := newBrowser(t, desktopWidth, desktopHeight)
	if err := chromedp.Do(browser, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email")); err != nil {
		t.Fatal(err)
	}
	screenshot(t, browser, "login")
	report := map[string][]string{"/login": serious(runAxe(t, browser))}
	if err := chromedp.Do(browser, chromedp.SendKeys("#email", m.Email), chromedp.SendKeys("#password", testPassword),
		chromedp.Submit("#email"), chromedp.WaitVisible("#search")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/tickets", "/tickets/" + seed.ids["tickets"], "/customers", "/customers/" + seed.ids["customers"],
		"/corrections", "/campaigns", "/campaigns/" + seed.ids["campaigns"], "/campaigns/new", "/templates", "/devbox",
		"/governance", "/staff", "/account"} {
		if err := chromedp.Do(browser, chromedp.Navigate(a.url+path), chromedp.WaitReady("#search")); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		screenshot(t, browser, strings.ReplaceAll(path, "/", "_"))
		report[path] = serious(runAxe(t, browser))
	}
	for path, bad := range report {
		if len(bad) > 0 {
			t.Errorf("%s: axe-core finds:\n  %s", path, strings.Join(bad, "\n  "))
		}
	}
}
