package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A message from the portal's contact form reaches the inbox once (double
// submit included), under the link's customer; an empty one is refused.
func TestPortalContact(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		token, _ := a.issue(ids[0], transfer)
		v := a.visitor()
		csrf := v.form("/l/" + token + "/contact")
		if code, _, _ := v.post("/l/"+token+"/contact", url.Values{"_csrf": {csrf}, "text": {"  "}}); code != http.StatusBadRequest {
			t.Errorf("empty message: %d", code)
		}
		if code, _, _ := v.post("/l/"+token+"/contact", url.Values{"text": {"没有令牌"}}); code != http.StatusForbidden {
			t.Errorf("without the CSRF token: %d", code)
		}
		msg := url.Values{"_csrf": {csrf}, "text": {"请问新公司的发票抬头是什么？"}}
		for range 2 {
			if code, _, _ := v.post("/l/"+token+"/contact", msg); code != http.StatusSeeOther {
				t.Fatalf("contact: %d", code)
			}
		}
		var events int
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE channel = 'portal' AND customer_id = $1`, ids[0]).Scan(&events)
		if events != 1 {
			t.Fatalf("inbound events = %d, want 1", events)
		}
		if _, body := v.get("/l/" + token + "/contact?sent=1"); !strings.Contains(body, "留言已收到") {
			t.Errorf("thanks page:\n%s", body)
		}
	})
}
