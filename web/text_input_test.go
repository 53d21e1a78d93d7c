package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// templateNamed is smsNoticeJSON with another name, JSON-quoted (so a
// control character travels as an escape such as \u0000).
func templateNamed(name string) string {
	quoted, _ := json.Marshal(name)
	return strings.Replace(smsNoticeJSON, `"name":"转让告知"`, `"name":`+string(quoted), 1)
}

// TestControlCharactersAnswer400: NUL bytes reached PostgreSQL and came
// back as a 500 and an ERROR log line on every route, signed in or not.
// Now every way in (form, JSON, query, path) answers 400 with a clear
// message, on both databases; ordinary layout in free text still passes.
func TestControlCharactersAnswer400(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		marketer := a.tokenFor(staff.Marketer)
		w := a.newWebClient()
		w.get("/login")
		for _, c := range []struct {
			name string
			send func() *http.Response
		}{
			{"login form NUL", func() *http.Response {
				r, _ := w.post("/login", url.Values{"email": {"a\x00@example.com"}, "password": {"x"}})
				return r
			}},
			{"login form bad UTF-8", func() *http.Response {
				r, _ := w.post("/login", url.Values{"email": {"\xff@example.com"}, "password": {"x"}})
				return r
			}},
			{"public report path", func() *http.Response { r, _ := w.get("/transparency/a%00b"); return r }},
			{"query", func() *http.Response { return a.do(http.MethodGet, "/api/v1/customers?q=%00", marketer, "", nil, nil) }},
			{"API path", func() *http.Response { return a.do(http.MethodGet, "/api/v1/templates/x%01y", marketer, "", nil, nil) }},
			{"JSON escape", func() *http.Response {
				return a.do(http.MethodPost, "/api/v1/templates", marketer, "application/json", strings.NewReader(templateNamed("告知\x00")), nil)
			}},
			{"JSON escape, other control", func() *http.Response {
				return a.do(http.MethodPost, "/api/v1/templates", marketer, "application/json", strings.NewReader(templateNamed("告知\x1b[31m")), nil)
			}},
		} {
			if resp := c.send(); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", c.name, resp.StatusCode)
			}
		}
		var e apiError
		if code := a.postJSON("/api/v1/templates", marketer, templateNamed("告知\x00"), &e); e.Error.Code != "invalid" || !strings.Contains(e.Error.Message, "control character") {
			t.Errorf("the answer does not say what is wrong: %d %+v", code, e.Error)
		}
		if code := a.postJSON("/api/v1/templates", marketer, templateNamed("告知\t第二版\n"), nil); code != http.StatusCreated {
			t.Errorf("a tab and newline in free text: %d", code)
		}
		if strings.Contains(a.logs.String(), "level=ERROR") {
			t.Errorf("bad text reached the database:\n%s", a.logs.String())
		}
	})
}

// FuzzTextInput: whatever text arrives in a form, a path or a JSON string,
// the answer is never a 500; text with a control character or bad UTF-8 is
// a 400. On PostgreSQL when TEST_DATABASE_URL is set, where NUL bites.
func FuzzTextInput(f *testing.F) {
	var db *database.DB
	if os.Getenv("TEST_DATABASE_URL") != "" {
		db = dbtest.Postgres(f)
	} else {
		db = dbtest.SQLite(f)
	}
	a := newApp(f, db, queuetest.Embedded(f), "HANDOVER_RATE_LIMIT=1000000")
	marketer := a.tokenFor(staff.Marketer)
	for _, seed := range []string{"王小明", "a\x00b", "\xff\xfe", "tab\there", "line\nbreak", "\x7f", "\x1b[0m", "\u2028", "%00", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// JSON carries invalid UTF-8 as U+FFFD, which is fine text.
		bad := strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f })
		send := func(req *http.Request) int {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s %s with %q: %d", req.Method, req.URL.Path, s, resp.StatusCode)
			}
			return resp.StatusCode
		}
		login, _ := http.NewRequest(http.MethodPost, a.url+"/login", strings.NewReader(url.Values{"email": {s}, "password": {s}}.Encode()))
		login.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		send(login)
		report, _ := http.NewRequest(http.MethodGet, a.url+"/transparency/"+url.PathEscape(s), nil)
		send(report)
		tpl, _ := http.NewRequest(http.MethodPost, a.url+"/api/v1/templates", strings.NewReader(templateNamed(s)))
		tpl.Header.Set("Content-Type", "application/json")
		tpl.Header.Set("Authorization", "Bearer "+marketer)
		if code := send(tpl); bad && code != http.StatusBadRequest {
			t.Fatalf("a template named %q: %d, want 400", s, code)
		}
	})
}
