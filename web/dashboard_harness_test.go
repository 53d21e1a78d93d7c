package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/staff"
)

const testPassword = "correct horse battery staple"

// staffMember creates a member with role and a password; returns the email.
func (a *app) staffMember(role staff.Role, name string) (*staff.Member, string) {
	a.t.Helper()
	m := &staff.Member{Email: name + "@example.com", Name: name, Role: role}
	if err := a.staff.CreateMember(context.Background(), m, testPassword, "test"); err != nil {
		a.t.Fatal(err)
	}
	return m, m.Email
}

// web is a browser-like HTTP client: a cookie jar, redirects not followed,
// the last page's CSRF token remembered.
type webClient struct {
	a    *app
	c    *http.Client
	csrf string
	// forwardedFor, when set, is sent as X-Forwarded-For: the client's
	// address as a listed proxy would report it.
	forwardedFor string
}

func (a *app) newWebClient() *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{a: a, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([A-Za-z0-9_-]+)"`)

func (w *webClient) send(req *http.Request) (*http.Response, string) {
	w.a.t.Helper()
	if w.forwardedFor != "" {
		req.Header.Set("X-Forwarded-For", w.forwardedFor)
	}
	resp, err := w.c.Do(req)
	if err != nil {
		w.a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if m := csrfField.FindSubmatch(b); m != nil {
		w.csrf = string(m[1])
	}
	return resp, string(b)
}

func (w *webClient) get(path string) (*http.Response, string) {
	w.a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, w.a.url+path, nil)
	return w.send(req)
}

// post sends a form with the remembered CSRF token (unless form sets one).
func (w *webClient) post(path string, form url.Values) (*http.Response, string) {
	w.a.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", w.csrf)
	}
	return w.send(w.newFormRequest(path, form))
}

// formRequest builds a form post (with the remembered CSRF token) for a
// test that changes its headers before sending it.
func (w *webClient) formRequest(path string, fields map[string]string) *http.Request {
	form := url.Values{"csrf": {w.csrf}}
	for k, v := range fields {
		form.Set(k, v)
	}
	return w.newFormRequest(path, form)
}

func (w *webClient) newFormRequest(path string, form url.Values) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, w.a.url+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// login signs in through the form and fails the test unless it worked.
func (w *webClient) login(email, password string) {
	w.a.t.Helper()
	w.get("/login")
	resp, body := w.post("/login", url.Values{"email": {email}, "password": {password}})
	if resp.StatusCode != http.StatusSeeOther {
		w.a.t.Fatalf("login %s: %d\n%s", email, resp.StatusCode, body)
	}
}

// auditActions lists the actions audited with an action prefix.
func (a *app) auditActions(action string) []audit.Entry {
	a.t.Helper()
	entries, err := audit.Find(context.Background(), a.db, audit.Filter{Action: action, Limit: 1000})
	if err != nil {
		a.t.Fatal(err)
	}
	return entries
}
