package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

func TestDashboardLoginAndLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		resp, _ := w.get("/tickets")
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Ftickets" {
			t.Fatalf("signed out: %d %s; want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body := w.get("/login")
		if resp.StatusCode != http.StatusOK || w.csrf == "" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'self'") {
			t.Fatalf("login page: %d csp=%q\n%s", resp.StatusCode, resp.Header.Get("Content-Security-Policy"), body)
		}
		// A session id planted before sign-in (fixation) is never honoured.
		planted := staff.NewToken()
		u, _ := url.Parse(a.url)
		w.c.Jar.SetCookies(u, []*http.Cookie{{Name: "handover_session", Value: planted, Path: "/"}})

		resp, body = w.post("/login", url.Values{"email": {email}, "password": {"wrong password!"}})
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "邮箱或密码错误。") {
			t.Fatalf("bad password: %d\n%s", resp.StatusCode, body)
		}
		resp, _ = w.post("/login", url.Values{"email": {email}, "password": {testPassword}, "next": {"/customers"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/customers" {
			t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		var set *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == "handover_session" {
				set = c
			}
		}
		if set == nil || !set.HttpOnly || set.SameSite != http.SameSiteLaxMode || set.Secure || set.Value == planted {
			t.Fatalf("session cookie = %+v; want a fresh HttpOnly, SameSite=Lax cookie (not Secure on plain http)", set)
		}
		var stored int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE id_hash = $1`, set.Value).Scan(&stored)
		if stored != 0 {
			t.Fatal("the session id is stored in plaintext")
		}
		resp, body = w.get("/tickets")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `href="/customers"`) || strings.Contains(body, `href="/staff"`) {
			t.Fatalf("tickets page for an agent: %d\n%s", resp.StatusCode, body)
		}
		if len(a.auditActions("staff.login")) != 1 || len(a.auditActions("staff.login_failed")) != 1 {
			t.Fatal("sign-in and the failed sign-in are not both audited")
		}

		old := set.Value
		resp, _ = w.post("/logout", nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Fatalf("logout: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if len(a.auditActions("staff.logout")) != 1 {
			t.Fatal("logout is not audited")
		}
		// The old cookie, replayed, is worth nothing.
		w2 := a.newWebClient()
		w2.c.Jar.SetCookies(u, []*http.Cookie{{Name: "handover_session", Value: old, Path: "/"}})
		if resp, _ := w2.get("/tickets"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("replayed cookie after logout: %d; want a redirect to sign in", resp.StatusCode)
		}
	})
}

func TestDashboardSecureCookieConfig(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_PUBLIC_URL=https://handover.example.com")
	_, email := a.staffMember(staff.Admin, "admin")
	w := a.newWebClient()
	w.get("/login")
	resp, _ := w.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	for _, c := range resp.Cookies() {
		if c.Name == "handover_session" && !c.Secure {
			t.Fatal("behind https the session cookie must be Secure")
		}
	}
}

func TestDashboardLoginThrottled(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, email := a.staffMember(staff.Agent, "agent")
	w := a.newWebClient()
	w.get("/login")
	for i := 0; i < staff.MaxFailuresPerAccount; i++ {
		if resp, _ := w.post("/login", url.Values{"email": {email}, "password": {"wrong password!"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d", i, resp.StatusCode)
		}
	}
	resp, body := w.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "该账户从您的地址登录失败次数过多") {
		t.Fatalf("after %d failures, even the right password: %d\n%s", staff.MaxFailuresPerAccount, resp.StatusCode, body)
	}
	// Other accounts from the same address still sign in, until the
	// address itself has failed too often.
	_, other := a.staffMember(staff.Agent, "other")
	for i := staff.MaxFailuresPerAccount; i < staff.MaxFailuresPerIP; i++ {
		w.post("/login", url.Values{"email": {"nobody" + string(rune('a'+i)) + "@example.com"}, "password": {"x"}})
	}
	resp, body = w.post("/login", url.Values{"email": {other}, "password": {testPassword}})
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "您的地址登录失败次数过多") {
		t.Fatalf("after %d failures from one address: %d\n%s", staff.MaxFailuresPerIP, resp.StatusCode, body)
	}
	if len(a.auditActions("staff.login_failed")) < staff.MaxFailuresPerIP {
		t.Fatal("failed sign-ins are not all audited")
	}
}

func TestDashboardTOTP(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, email := a.staffMember(staff.Marketer, "marketer")
	w := a.newWebClient()
	w.login(email, testPassword)
	w.get("/account")
	resp, body := w.post("/account/totp", nil)
	secret := between(body, `id="totp-secret">`, "<")
	if resp.StatusCode != http.StatusOK || secret == "" || !strings.Contains(body, "otpauth://totp/") {
		t.Fatalf("enrol: %d\n%s", resp.StatusCode, body)
	}
	if resp, _ := w.post("/account/totp/confirm", url.Values{"code": {"000000"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("wrong code confirmed: %d", resp.StatusCode)
	}
	code, _ := totp.GenerateCode(secret, time.Now())
	if resp, _ := w.post("/account/totp/confirm", url.Values{"code": {code}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	w.post("/logout", nil)

	w.get("/login")
	resp, body = w.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "6 位动态码") {
		t.Fatalf("password alone with TOTP on: %d\n%s", resp.StatusCode, body)
	}
	resp, _ = w.post("/login", url.Values{"email": {email}, "password": {testPassword}, "code": {"123456"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	// The code that turned TOTP on was used: sign in with the next one
	// (one step of drift is allowed).
	code, _ = totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	if resp, _ = w.post("/login", url.Values{"email": {email}, "password": {testPassword}, "code": {code}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right code: %d", resp.StatusCode)
	}
	// A code works once: replayed by someone who saw it, it is refused.
	other := a.newWebClient()
	other.get("/login")
	resp, body = other.post("/login", url.Values{"email": {email}, "password": {testPassword}, "code": {code}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "已被使用") {
		t.Fatalf("replayed code: %d\n%s", resp.StatusCode, body)
	}
}

func between(s, start, end string) string {
	_, rest, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, end)
	return v
}

func TestDashboardCSRF(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	_, email := a.staffMember(staff.Admin, "admin")
	// The sign-in form itself needs its token.
	w := a.newWebClient()
	if resp, _ := w.post("/login", url.Values{"email": {email}, "password": {testPassword}, "csrf": {""}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login without a token: %d; want 403", resp.StatusCode)
	}
	w.login(email, testPassword)
	w.get("/staff")
	for _, token := range []string{"", "wrong", staff.NewToken(), w.csrf + "x"} {
		resp, body := w.post("/staff", url.Values{"csrf": {token}, "email": {"new@example.com"}, "role": {"agent"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "该表单已过期或并非来自 Handover") ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("token %q: %d %s\n%s", token, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if _, err := a.staff.FindMemberByEmail(context.Background(), "new@example.com"); err == nil {
		t.Fatal("a request without the right token changed something")
	}
	// The header works as well as the form field (for scripts).
	req, _ := http.NewRequest(http.MethodPost, a.url+"/staff", strings.NewReader(url.Values{"email": {"new@example.com"}, "role": {"agent"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", w.csrf)
	if resp, body := w.send(req); resp.StatusCode != http.StatusOK || !strings.Contains(body, "temp-password") {
		t.Fatalf("with the header: %d\n%s", resp.StatusCode, body)
	}
}

func TestDashboardSessionExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		m, email := a.staffMember(staff.Agent, "agent")
		for _, c := range []struct{ name, update string }{
			{"idle", `UPDATE sessions SET last_seen_at = $1 WHERE staff_id = $2`},
			{"absolute", `UPDATE sessions SET expires_at = $1 WHERE staff_id = $2`},
		} {
			w := a.newWebClient()
			w.login(email, testPassword)
			if resp, _ := w.get("/tickets"); resp.StatusCode != http.StatusOK {
				t.Fatalf("%s: fresh session: %d", c.name, resp.StatusCode)
			}
			if _, err := a.db.ExecContext(ctx, c.update, a.db.Now().Add(-31*time.Minute), m.ID); err != nil {
				t.Fatal(err)
			}
			if resp, _ := w.get("/tickets"); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s expiry: %d; want a redirect to sign in", c.name, resp.StatusCode)
			}
			resp, body := w.post("/logout", nil)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "请重新登录") {
				t.Fatalf("%s: a form after expiry: %d\n%s", c.name, resp.StatusCode, body)
			}
		}
		var left int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE staff_id = $1`, m.ID).Scan(&left)
		if left != 0 {
			t.Fatalf("%d expired sessions left in the table", left)
		}
	})
}
