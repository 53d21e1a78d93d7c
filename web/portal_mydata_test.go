package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/handoverhq/handover/rights"
)

var challengeRE = regexp.MustCompile(`name="c" value="([^"]+)"`)

// startMyData asks for a code on the link's my data page and returns the
// challenge id and the code sent.
func startMyData(t *testing.T, a *app, v *visitor, base, via string) (csrf, challenge, code string) {
	t.Helper()
	csrf = v.form(base + "/mydata")
	status, _, h := v.post(base+"/mydata/code", url.Values{"_csrf": {csrf}, "via": {via}})
	if status != http.StatusSeeOther {
		t.Fatalf("send code: %d", status)
	}
	status, body := v.get(strings.TrimPrefix(h.Get("Location"), a.url))
	m := challengeRE.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("code step: %d\n%s", status, body)
	}
	code, _, _ = a.lastCode()
	return csrf, m[1], code
}

func (v *visitor) download(path string) (int, http.Header, []byte) {
	v.a.t.Helper()
	resp, err := v.client.Get(v.a.url + path)
	if err != nil {
		v.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// TestPortalMyData: a code to the phone on file, a wrong code, the right
// one; the page shows what is held and downloads as JSON and CSV; a used
// code does not work twice; the grant works on its own link only, and
// another customer's link never shows this customer's data.
func TestPortalMyData(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		tokenA, _ := a.issue(ids[0], transfer)
		tokenB, _ := a.issue(ids[1], transfer)
		baseA, baseB := "/l/"+tokenA, "/l/"+tokenB
		v := a.visitor()
		if code, body := v.get(baseA + "/mydata"); code != http.StatusOK || !strings.Contains(body, "138****5678") || strings.Contains(body, "13812345678") {
			t.Fatalf("start: %d\n%s", code, body)
		}
		if code, _ := v.get(baseA + "/mydata/download?format=json"); code != http.StatusSeeOther {
			t.Fatalf("download without a code: %d", code)
		}
		if code, _, _ := v.post(baseA+"/mydata/code", url.Values{"via": {"phone"}}); code != http.StatusForbidden {
			t.Fatalf("no CSRF: %d", code)
		}
		csrf, challenge, sent := startMyData(t, a, v, baseA, "phone")
		if _, phone, _ := a.lastCode(); phone != "+8613812345678" {
			t.Fatalf("code went to %q", phone)
		}
		if code, body, _ := v.post(baseA+"/mydata/code", url.Values{"_csrf": {csrf}, "via": {"phone"}, "c": {challenge}}); code != http.StatusTooManyRequests ||
			!strings.Contains(body, "一分钟") || !strings.Contains(body, challenge) {
			t.Fatalf("second code within the minute: %d\n%s", code, body)
		}
		if code, _, _ := v.post(baseA+"/mydata/code", url.Values{"_csrf": {csrf}, "via": {"fax"}}); code != http.StatusBadRequest {
			t.Fatalf("via fax: %d", code)
		}
		wrong := "000000"
		if sent == wrong {
			wrong = "111111"
		}
		if code, body, _ := v.post(baseA+"/mydata/verify", url.Values{"_csrf": {csrf}, "c": {challenge}, "via": {"phone"}, "code": {wrong}}); code != http.StatusBadRequest || !strings.Contains(body, "验证码错误") {
			t.Fatalf("wrong code: %d\n%s", code, body)
		}
		// B's link with A's challenge and code: refused, nothing granted.
		csrfB := v.form(baseB + "/mydata")
		if code, _, _ := v.post(baseB+"/mydata/verify", url.Values{"_csrf": {csrfB}, "c": {challenge}, "via": {"phone"}, "code": {sent}}); code != http.StatusBadRequest {
			t.Fatalf("A's code on B's link: %d", code)
		}
		code, _, h := v.post(baseA+"/mydata/verify", url.Values{"_csrf": {csrf}, "c": {challenge}, "via": {"phone"}, "code": {sent}})
		if code != http.StatusSeeOther {
			t.Fatalf("verify: %d", code)
		}
		var cookie *http.Cookie
		for _, c := range (&http.Response{Header: h}).Cookies() {
			if c.Name == "hov_data" {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.Path != baseA+"/" || cookie.SameSite != http.SameSiteStrictMode {
			t.Fatalf("grant cookie = %+v", cookie)
		}
		if code, _, _ := v.post(baseA+"/mydata/verify", url.Values{"_csrf": {csrf}, "c": {challenge}, "via": {"phone"}, "code": {sent}}); code != http.StatusBadRequest {
			t.Fatalf("reused code: %d", code)
		}
		code, body := v.get(baseA + "/mydata")
		if code != http.StatusOK || !strings.Contains(body, "8613812345678") || !strings.Contains(body, "张三") || strings.Contains(body, "李四") {
			t.Fatalf("my data: %d\n%s", code, body)
		}
		// The cookie is for A's link: B's page asks for a code.
		if code, body := v.get(baseB + "/mydata"); code != http.StatusOK || strings.Contains(body, "张三") || strings.Contains(body, "李四") || !strings.Contains(body, "send-code") {
			t.Fatalf("B's my data: %d\n%s", code, body)
		}
		// Even sent to B's link on purpose, A's grant is not B's.
		req, _ := http.NewRequest(http.MethodGet, a.url+baseB+"/mydata/download?format=json", nil)
		req.AddCookie(&http.Cookie{Name: "hov_data", Value: cookie.Value})
		if resp, err := v.client.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("A's grant on B's link: %v %v", resp, err)
		}
		code, hdr, b := v.download(baseA + "/mydata/download?format=json")
		var d rights.CustomerData
		if code != http.StatusOK || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment;") || json.Unmarshal(b, &d) != nil || d.Customer.ID != ids[0] || d.Customer.Phone != "+8613812345678" {
			t.Fatalf("json: %d %v\n%s", code, hdr, b)
		}
		code, hdr, b = v.download(baseA + "/mydata/download?format=csv")
		if code != http.StatusOK || !strings.Contains(hdr.Get("Content-Disposition"), `my-data.csv"`) || !strings.HasPrefix(hdr.Get("Content-Type"), "text/csv") || !strings.Contains(string(b), "customer,"+ids[0]+",name,张三") {
			t.Fatalf("csv: %d %v\n%s", code, hdr, b)
		}
		var audits int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'customer.data_export' AND object_id = $1 AND actor = $2`, ids[0], "customer:"+ids[0]).Scan(&audits)
		if audits < 3 {
			t.Fatalf("audit entries = %d", audits)
		}
		// Once the grant has expired the page asks for a code again.
		if _, err := a.db.ExecContext(ctx, `UPDATE data_access_grants SET expires_at = $1`, a.db.Now().Add(-1)); err != nil {
			t.Fatal(err)
		}
		if code, body := v.get(baseA + "/mydata"); code != http.StatusOK || strings.Contains(body, "张三") {
			t.Fatalf("expired grant: %d\n%s", code, body)
		}
	})
}
