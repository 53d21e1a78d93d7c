package web_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/rights"
)

// TestPortalDetailsAndMyDataBrowser walks two customers through the
// portal in headless Chromium at a phone's size, in zh-CN and in en: one
// proposes a new phone and company and confirms the code sent to the new
// phone; the other confirms a code to see their data and downloads it as
// JSON and CSV. A screenshot per step.
func TestPortalDetailsAndMyDataBrowser(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			ctx0 := context.Background()
			a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_COMPANY_NAME=华东五金", "HANDOVER_COMPANY_CONTACT=400-111-2222")
			ids, transfer := a.seedPortal()
			tokenA, _ := a.issue(ids[0], transfer)
			tokenB, _ := a.issue(ids[1], transfer)
			ctx := newBrowser(t, phoneWidth, phoneHeight)
			step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
				t.Helper()
				if err := chromedp.Do(ctx, actions...); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				screenshot(t, ctx, name)
			}
			base := a.url + "/l/" + tokenA
			step("details", chromedp.Navigate(base+"/details?lang="+lang), chromedp.WaitVisible("#propose"))
			if held, err := chromedp.Run(ctx, chromedp.Text("#held-phone")); err != nil || held != "138****5678" {
				t.Fatalf("held phone %q, %v", held, err)
			}
			step("details-filled", chromedp.SendKeys("#phone", "13700002222"), chromedp.SendKeys("#company", "江南五金 Jiangnan"))
			step("details-code", chromedp.Click("#propose"), chromedp.WaitVisible("#confirm-code"))
			code, _, _ := a.lastCode()
			step("details-code-entered", chromedp.SendKeys("#code", code))
			step("details-saved", chromedp.Click("#confirm-code"), chromedp.WaitVisible("#result"))
			title, err := chromedp.Run(ctx, chromedp.Text("#result"))
			if err != nil || (lang == "en") != strings.Contains(title, "with our staff") {
				t.Fatalf("result %q, %v", title, err)
			}
			list, _ := a.rights.CustomerCorrections(ctx0, ids[0])
			if len(list) != 1 || list[0].Status != rights.CorrectionPending || list[0].Proposed.Phone != "+8613700002222" {
				t.Fatalf("requests %+v", list)
			}

			base = a.url + "/l/" + tokenB
			step("mydata", chromedp.Navigate(base+"/mydata"), chromedp.WaitVisible("#send-code"))
			step("mydata-code", chromedp.Click("#send-code"), chromedp.WaitVisible("#confirm-code"))
			code, phone, _ := a.lastCode()
			if phone != "+8613900001111" {
				t.Fatalf("code went to %q", phone)
			}
			step("mydata-shown", chromedp.SendKeys("#code", code), chromedp.Click("#confirm-code"), chromedp.WaitVisible("#mydata"))
			if name, err := chromedp.Run(ctx, chromedp.Text("#my-name")); err != nil || name != "李四" {
				t.Fatalf("my name %q, %v", name, err)
			}
			dir := t.TempDir()
			var d rights.CustomerData
			if err := json.Unmarshal(download(t, ctx, dir, "#download-json"), &d); err != nil || d.Customer.Name != "李四" || d.Customer.ID != ids[1] {
				t.Fatalf("downloaded JSON: %+v, %v", d.Customer, err)
			}
			if csv := string(download(t, ctx, dir, "#download-csv")); !strings.Contains(csv, "customer,"+ids[1]+",name,李四") {
				t.Fatalf("downloaded CSV:\n%s", csv)
			}
		})
	}
}

// download clicks a download link and returns the file Chromium saved.
func download(t *testing.T, ctx context.Context, dir, sel string) []byte {
	t.Helper()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		on := true
		_, err := chromedp.Call(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: &on})
		return err
	}), chromedp.Click(sel))
	if err != nil {
		t.Fatalf("download %s: %v", sel, err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download %s: %v", sel, err)
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatalf("download %s cancelled", sel)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("download %s: no progress", sel)
	return nil
}
