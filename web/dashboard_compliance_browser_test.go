package web_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/chromedp/chromedp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestComplianceDayInBrowser walks the DPO's day in Chromium, in Chinese
// and in English: record an incident, add to its timeline, draft and send
// the notice, read the report; request an impact assessment and have a
// second admin approve it; dry-run the buyer's export and download the
// package; request a destruction, approve it as the auditor (password
// again), run it and read its report; publish a training module and an
// agreement version.
func TestComplianceDayInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test")
	}
	for _, locale := range []string{"zh-CN", "en"} {
		t.Run(locale, func(t *testing.T) { complianceDay(t, locale) })
	}
}

func complianceDay(t *testing.T, locale string) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	f := newComplianceFixture(t, a)
	ctx := context.Background()
	emails := map[string]string{}
	for _, name := range []string{"dpo", "dpo2", "auditor"} {
		m, err := a.staff.FindMemberByEmail(ctx, name+"@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.staff.UpdatePreferences(ctx, m.ID, locale, "Asia/Shanghai"); err != nil {
			t.Fatal(err)
		}
		emails[name] = m.Email
	}

	// A browser per part of the day: each has its own time bound
	// (newBrowser's), so a slow machine does not run out mid-walk.
	b := newBrowser(t, desktopWidth, desktopHeight)
	fresh := func() { b = newBrowser(t, desktopWidth, desktopHeight) }
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			screenshot(t, b, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
		screenshot(t, b, name)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	signIn := func(name string) {
		t.Helper()
		step("sign-in-"+name, chromedp.Navigate(a.url+"/login"), chromedp.WaitVisible("#email"), chromedp.SendKeys("#email", emails[name]),
			chromedp.SendKeys("#password", testPassword), chromedp.Click("#sign-in"), chromedp.WaitVisible("#search"))
	}
	signOut := func() {
		t.Helper()
		c, cancel := context.WithTimeout(b, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, chromedp.Click("#logout"), chromedp.WaitVisible("#email")); err != nil {
			t.Fatalf("sign out: %v", err)
		}
	}

	// Incident: record, add a measure, draft the notice, send it, report.
	signIn("dpo")
	step("01-compliance", chromedp.Click(`a[href="/compliance"]`), chromedp.WaitVisible("#compliance"))
	step("02-incidents-empty", chromedp.Click("#to-incidents"), chromedp.WaitVisible("#incidents-empty"))
	step("03-incident-form", chromedp.Click("#new-incident"), chromedp.WaitVisible("#incident-form"),
		chromedp.SetValue("#incident-title", "客服电脑感染木马"), chromedp.Click("#cat-name"), chromedp.Click("#cat-phone"),
		chromedp.SetValue("#occurred-at", "2026-03-01T09:00"), chromedp.SetValue("#discovered-at", "2026-03-01T10:30"),
		chromedp.SetValue("#incident-cause", "钓鱼邮件"), chromedp.SetValue("#incident-measures", "隔离电脑，重置密码"),
		chromedp.SetValue("#incident-contact", "dpo@example.com"), chromedp.SetValue("#incident-customers", "138 1234 5678\n139 0000 1111"))
	step("04-incident", chromedp.Click("#record-incident"), chromedp.WaitVisible("#timeline"))
	if got := text("#incident-affected"); got != "2" {
		t.Fatalf("affected = %q", got)
	}
	step("05-incident-event", chromedp.SetValue("#event-note", "已通知网络安全部门"), chromedp.Click("#add-event"),
		chromedp.WaitVisible("#notice-form"))
	if !strings.Contains(text("#timeline"), "已通知网络安全部门") {
		t.Fatal("the measure is not on the timeline")
	}
	step("06-notice-drafted", chromedp.Click("#draft-notice"), chromedp.WaitVisible("#send-notice"))
	step("07-notice-campaign", chromedp.Click("#send-notice"), chromedp.WaitVisible("#start"))
	step("08-notice-sent", chromedp.Click("#start"), chromedp.WaitVisible("#pause"))
	step("09-incident-report", chromedp.Navigate(a.url+"/incidents"), chromedp.WaitVisible("#incidents"),
		chromedp.Click("#incidents a"), chromedp.WaitVisible("#read-report"), chromedp.Click("#read-report"), chromedp.WaitVisible(chromedp.CSS("table")))
	if body := text("body"); !strings.Contains(body, "客服电脑感染木马") || !strings.Contains(body, "2") {
		t.Fatalf("report:\n%s", body)
	}

	// Impact assessment: requested by one admin, approved by another.
	fresh()
	signIn("dpo")
	step("10-assessments", chromedp.Navigate(a.url+"/assessments?transfer="+f.transfer), chromedp.WaitVisible("#assessment-form"),
		chromedp.SetValue("#assessment-necessity", "买方继续履行订单"), chromedp.SetValue("#assessment-risks", "传输中泄露"),
		chromedp.SetValue("#assessment-measures", "只有买方密钥可解密"))
	step("11-assessment-requested", chromedp.Click("#request-assessment"), chromedp.WaitVisible("#own-assessment"))
	signOut()
	signIn("dpo2")
	step("12-assessment-second-admin", chromedp.Navigate(a.url+"/assessments?transfer="+f.transfer), chromedp.WaitVisible(`button[id^="approve-"]`))
	step("13-assessment-approved", chromedp.Click(`button[id^="approve-"]`), chromedp.WaitVisible(`article[data-status="approved"]`))
	signOut()

	// Export: dry run, then the package, which only the buyer opens.
	fresh()
	signIn("dpo")
	step("14-export", chromedp.Navigate(a.url+"/export?transfer="+f.transfer), chromedp.WaitVisible("#dry-run-form"))
	step("15-export-dry-run", chromedp.Click("#dry-run"), chromedp.WaitVisible("#counts"))
	if got := text("#count-selected"); got != "1" {
		t.Fatalf("selected = %q", got)
	}
	buyer, _ := age.GenerateX25519Identity()
	step("16-export-form", chromedp.SendKeys("#recipient", buyer.Recipient().String()), chromedp.Click("#export-confirm"))
	pkg := download(t, b, t.TempDir(), "#export")
	if _, err := age.Decrypt(bytes.NewReader(pkg), buyer); err != nil {
		t.Fatalf("the downloaded package does not open with the buyer's key: %v", err)
	}
	step("17-export-done", chromedp.Navigate(a.url+"/export?transfer="+f.transfer), chromedp.WaitVisible("#past-exports"))
	if !strings.Contains(text("#past-exports"), sha256hex(pkg)) {
		t.Fatal("the past exports do not show the package's SHA-256")
	}

	// Destruction: request, approve as the auditor after the password,
	// run after typing the seller's name, read the report.
	fresh()
	signIn("dpo")
	step("18-destruction", chromedp.Navigate(a.url+"/destruction?transfer="+f.transfer), chromedp.WaitVisible("#request-form"))
	step("19-destruction-requested", chromedp.Click("#request-destruction"), chromedp.WaitVisible("#own-plan"))
	plan, err := chromedp.Run(b, chromedp.Evaluate[string](`location.pathname`))
	if err != nil {
		t.Fatal(err)
	}
	signOut()
	signIn("auditor")
	step("20-destruction-approve", chromedp.Navigate(a.url+plan), chromedp.WaitVisible("#approve-form"),
		chromedp.SendKeys("#reauth-password", "wrong password"), chromedp.Click("#approve"), chromedp.WaitVisible("#approve-error"))
	step("21-destruction-approved", chromedp.SendKeys("#reauth-password", testPassword), chromedp.Click("#approve"),
		chromedp.WaitVisible(`#plan-status[data-status="approved"]`))
	signOut()
	signIn("dpo")
	step("22-destruction-run", chromedp.Navigate(a.url+plan), chromedp.WaitVisible("#run-form"), chromedp.SetValue("#run-confirm", "华东五金"))
	step("23-destruction-completed", chromedp.Click("#run"), chromedp.WaitVisible(`#plan-status[data-status="completed"]`))
	if got := text("#destroyed-count"); got != "1" && got != "2" {
		t.Fatalf("destroyed = %q", got)
	}
	step("24-destruction-report", chromedp.Click("#read-report"), chromedp.WaitVisible(chromedp.CSS("body")))

	// Training module and agreement version.
	fresh()
	signIn("dpo")
	step("25-training", chromedp.Navigate(a.url+"/governance/training"), chromedp.WaitVisible("#training-form"),
		chromedp.SetValue("#training-role", string(staff.Agent)), chromedp.SetValue("#training-title", "客户信息保护"),
		chromedp.SetValue("#training-body", "只在处理工单需要时查看客户信息。"), chromedp.SetValue("#q0", "何时可以查看客户信息？"),
		chromedp.SetValue("#q0-options", "随时\n处理工单需要时"), chromedp.SetValue("#q0-answer", "2"))
	step("26-training-published", chromedp.Click("#create-training"), chromedp.WaitVisible(`#modules a[id^="retire-"]`))
	step("27-agreement", chromedp.Navigate(a.url+"/governance/agreements"), chromedp.WaitVisible("#agreement-form"),
		chromedp.SetValue("#agreement-zh", "我承诺对客户信息保密。"), chromedp.SetValue("#agreement-en", "I keep customer data confidential."))
	step("28-agreement-confirm", chromedp.Click("#review-agreement"), chromedp.WaitVisible("#publish-warning"))
	step("29-agreement-published", chromedp.Click("#publish-agreement"), chromedp.WaitVisible("#gov-agreement"))
	step("30-agreement-results", chromedp.Navigate(a.url+"/governance/agreements"), chromedp.WaitVisible("#acceptances"))
	if got := text("#accepted-count"); got != "0" {
		t.Fatalf("accepted = %q", got)
	}
}
