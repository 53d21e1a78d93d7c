package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestTemplateEditorInBrowser walks a marketer's template work in Chromium,
// in zh-CN and in en: new template → a refused save keeps the text and
// says why → create → edit as version 2 → preview with a customer found
// by phone (masked) → send a test to oneself (the devbox records it).
func TestTemplateEditorInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, c := range []struct{ locale, newTitle, saved, checksOK string }{
		{"zh-CN", "新建模板", "已保存为新版本", "检查通过"},
		{"en", "New template", "Saved as a new version", "Checks passed"},
	} {
		t.Run(c.locale, func(t *testing.T) {
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
			ctx := context.Background()
			a.oneCustomer()
			m := &staff.Member{Email: "marketer@example.com", Name: "marketer", Role: staff.Marketer, Locale: c.locale}
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
			do("sign in", signIn(a.url, m.Email)...)
			do("list", chromedp.Navigate(a.url+"/templates"), chromedp.WaitVisible("#template-new"), chromedp.Click("#template-new"),
				chromedp.WaitVisible("#template-form"))
			if h := text("h1"); h != c.newTitle {
				t.Fatalf("form title %q, want %q", h, c.newTitle)
			}
			// A consent request without link or opt-out is refused, the
			// text kept.
			do("refused", chromedp.SetValue("#t-kind", "consent_request"), chromedp.SendKeys("#t-name", "renewal"),
				chromedp.SendKeys("#t-subject", "Please confirm"), chromedp.SendKeys("#t-body", "Hello {{.Customer.Name}}"),
				chromedp.Click("#t-save"), chromedp.WaitVisible("#form-problems"))
			if v, _ := chromedp.Run(b, chromedp.Value("#t-body")); v != "Hello {{.Customer.Name}}" {
				t.Fatalf("the refused body was not kept: %q", v)
			}
			screenshot(t, b, "1-refused")
			do("create", chromedp.SetValue("#t-kind", "generic"), chromedp.SetValue("#t-body", "Hello {{.Customer.Name}}: {{.Link}}\n{{.OptOut}}"),
				chromedp.Click("#t-save"), chromedp.WaitVisible("#template-checks-ok"))
			if !strings.Contains(text("#template-checks-ok"), c.checksOK) {
				t.Fatalf("checks line %q", text("#template-checks-ok"))
			}
			screenshot(t, b, "2-created")
			do("edit", chromedp.Click("#template-edit"), chromedp.WaitVisible("#template-form"),
				chromedp.SetValue("#t-body", "Second draft for {{.Customer.Name}}: {{.Link}}\n{{.OptOut}}"),
				chromedp.Click("#t-save"), chromedp.WaitVisible(".flash"))
			if !strings.Contains(text(".flash"), c.saved) || !strings.Contains(text("#template-versions"), "v1") {
				t.Fatalf("after edit: flash %q, versions %q", text(".flash"), text("#template-versions"))
			}
			do("preview", chromedp.SendKeys("#preview-customer", "13812345678"), chromedp.Click("#preview-run"), chromedp.WaitVisible("#preview[data-customer] #preview-text"))
			if p := text("#preview-text"); !strings.Contains(p, "Second draft for 张*") || strings.Contains(p, "张三") {
				t.Fatalf("preview %q", p)
			}
			screenshot(t, b, "3-preview")
			do("test send", chromedp.Click("#test-send"), chromedp.WaitVisible("#test-sent"))
			screenshot(t, b, "4-test-sent")
			if sent, _ := a.devbox.Find(ctx, "", 10); len(sent) != 1 || !strings.Contains(sent[0].Text, "Second draft for marketer") {
				t.Fatalf("devbox: %+v", sent)
			}
		})
	}
}
