package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/handoverhq/handover/rights"
)

// lastCode reads the newest confirmation code the devbox recorded, and
// where it went.
func (a *app) lastCode() (code, phone, email string) {
	a.t.Helper()
	msgs, err := a.devbox.Find(context.Background(), "", 1)
	if err != nil || len(msgs) == 0 {
		a.t.Fatalf("devbox: %v, %v", msgs, err)
	}
	return regexp.MustCompile(`\d{6}`).FindString(msgs[0].Text), msgs[0].To.Phone, msgs[0].To.Email
}

var requestRE = regexp.MustCompile(`name="r" value="([^"]+)"`)

// TestPortalDetailsCorrection proposes a phone correction from the link:
// the code goes to the new phone; a wrong code, then the right one; a
// reused code and the back button change nothing; the customer record
// stays as it was until staff approve.
func TestPortalDetailsCorrection(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		token, l := a.issue(ids[0], transfer)
		base := "/l/" + token
		v := a.visitor()
		code, body := v.get(base + "/details")
		if code != http.StatusOK || !strings.Contains(body, "138****5678") || strings.Contains(body, "13812345678") || !strings.Contains(body, "张*") {
			t.Fatalf("details: %d\n%s", code, body)
		}
		csrf := v.form(base + "/details")
		// Without the form's token: refused.
		if code, _, _ := v.post(base+"/details", url.Values{"phone": {"13700002222"}}); code != http.StatusForbidden {
			t.Fatalf("no CSRF: %d", code)
		}
		// Nothing new, or a bad phone: the form again with a problem.
		if code, body, _ := v.post(base+"/details", url.Values{"_csrf": {csrf}, "phone": {"13812345678"}}); code != http.StatusBadRequest || !strings.Contains(body, "无需更正") {
			t.Fatalf("same phone: %d\n%s", code, body)
		}
		if code, body, _ := v.post(base+"/details", url.Values{"_csrf": {csrf}, "phone": {"12"}, "company": {"新公司"}}); code != http.StatusBadRequest || !strings.Contains(body, "新公司") {
			t.Fatalf("bad phone: %d\n%s", code, body)
		}
		form := url.Values{"_csrf": {csrf}, "phone": {"137 0000 2222"}, "company": {"江南五金"}}
		var loc string
		for i := 0; i < 2; i++ { // a double submit is one request, one code
			code, _, h := v.post(base+"/details", form)
			if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "/details/confirm?r=") {
				t.Fatalf("propose: %d %s", code, h.Get("Location"))
			}
			loc = h.Get("Location")
		}
		sent, phone, _ := a.lastCode()
		if phone != "+8613700002222" {
			t.Fatalf("code went to %q", phone)
		}
		if msgs, _ := a.devbox.Find(ctx, "", 10); len(msgs) != 1 {
			t.Fatalf("%d codes sent", len(msgs))
		}
		code, body = v.get(strings.TrimPrefix(loc, a.url))
		m := requestRE.FindStringSubmatch(body)
		if code != http.StatusOK || m == nil || !strings.Contains(body, "137****2222") {
			t.Fatalf("code step: %d\n%s", code, body)
		}
		reqID := m[1]
		wrong := "000000"
		if sent == wrong {
			wrong = "111111"
		}
		if code, body, _ := v.post(base+"/details/confirm", url.Values{"_csrf": {csrf}, "r": {reqID}, "code": {wrong}}); code != http.StatusBadRequest || !strings.Contains(body, "验证码错误") {
			t.Fatalf("wrong code: %d\n%s", code, body)
		}
		// A resend within the minute is throttled.
		if code, body, _ := v.post(base+"/details/resend", url.Values{"_csrf": {csrf}, "r": {reqID}}); code != http.StatusTooManyRequests || !strings.Contains(body, "一分钟") {
			t.Fatalf("resend: %d\n%s", code, body)
		}
		for i := 0; i < 2; i++ { // the right code; then the same again (double submit)
			code, _, h := v.post(base+"/details/confirm", url.Values{"_csrf": {csrf}, "r": {reqID}, "code": {sent}})
			if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "/details?saved=1") {
				t.Fatalf("confirm %d: %d %s", i, code, h.Get("Location"))
			}
		}
		// The back button lands on the result, not on a stale form.
		if code, _ := v.get(strings.TrimPrefix(loc, a.url)); code != http.StatusSeeOther {
			t.Fatalf("back to the code step: %d", code)
		}
		if code, body := v.get(base + "/details?saved=1"); code != http.StatusOK || !strings.Contains(body, "审核通过前") {
			t.Fatalf("saved: %d\n%s", code, body)
		}
		list, _ := a.rights.CustomerCorrections(ctx, ids[0])
		if len(list) != 1 || list[0].Status != rights.CorrectionPending || list[0].LinkID != l.ID || list[0].Proposed.Company != "江南五金" {
			t.Fatalf("requests = %+v", list)
		}
		if cu, _ := a.customers.FindCustomerByID(ctx, ids[0]); cu.Phone != "+8613812345678" {
			t.Fatal("the phone changed before approval")
		}
		if code, body := v.get(base + "/details"); code != http.StatusOK || !strings.Contains(body, "open-request") {
			t.Fatalf("details with a request: %d\n%s", code, body)
		}
		if strings.Contains(a.logs.String(), sent) {
			t.Error("the code is in the log")
		}
	})
}

// TestPortalDetailsExpiredCode: an expired code is refused like a wrong
// one; another customer's link cannot confirm or see the request.
func TestPortalDetailsExpiredCode(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		tokenA, _ := a.issue(ids[0], transfer)
		tokenB, _ := a.issue(ids[1], transfer)
		v := a.visitor()
		csrf := v.form("/l/" + tokenA + "/details")
		_, _, h := v.post("/l/"+tokenA+"/details", url.Values{"_csrf": {csrf}, "email": {"new@example.com"}})
		reqID := strings.SplitN(h.Get("Location"), "r=", 2)[1]
		sent, _, email := a.lastCode()
		if email != "new@example.com" {
			t.Fatalf("code went to %q", email)
		}
		// B's link with A's request and code: nothing, and nothing shown.
		csrfB := v.form("/l/" + tokenB + "/details")
		if code, body := v.get("/l/" + tokenB + "/details/confirm?r=" + reqID); code != http.StatusSeeOther || strings.Contains(body, "n***@example.com") {
			t.Fatalf("B sees A's request: %d\n%s", code, body)
		}
		v.post("/l/"+tokenB+"/details/confirm", url.Values{"_csrf": {csrfB}, "r": {reqID}, "code": {sent}})
		if list, _ := a.rights.CustomerCorrections(ctx, ids[0]); list[0].Status != rights.CorrectionAwaitingConfirmation {
			t.Fatalf("B's link confirmed A's request: %s", list[0].Status)
		}
		if _, err := a.db.ExecContext(ctx, `UPDATE confirmation_codes SET expires_at = $1`, a.db.Now().Add(-1)); err != nil {
			t.Fatal(err)
		}
		if code, _, _ := v.post("/l/"+tokenA+"/details/confirm", url.Values{"_csrf": {csrf}, "r": {reqID}, "code": {sent}}); code != http.StatusBadRequest {
			t.Fatalf("expired code: %d", code)
		}
	})
}
