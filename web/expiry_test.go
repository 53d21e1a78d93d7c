package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/staff"
)

// TestExpiredAccountLeavesTheDashboard: a third-party account signed in
// before its expiry is out on its next request after it, and cannot sign
// in again, without waiting for the housekeeping task.
func TestExpiredAccountLeavesTheDashboard(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ends := time.Now().Add(time.Hour)
		m := &staff.Member{Email: "agency@example.com", Name: "agency", Role: staff.Auditor, ExpiresAt: &ends}
		if err := a.staff.CreateMember(context.Background(), m, testPassword, "test"); err != nil {
			t.Fatal(err)
		}
		w := a.newWebClient()
		w.login(m.Email, testPassword)
		if resp, _ := w.get("/account"); resp.StatusCode != http.StatusOK {
			t.Fatalf("before expiry: %d", resp.StatusCode)
		}
		a.exec(`UPDATE staff SET expires_at = $1 WHERE id = $2`, time.Now().Add(-time.Minute).UTC(), m.ID)
		if resp, _ := w.get("/account"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
			t.Fatalf("the session outlived the account's expiry: %d", resp.StatusCode)
		}
		w.get("/login")
		if resp, body := w.post("/login", url.Values{"email": {m.Email}, "password": {testPassword}}); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "已过期") {
			t.Fatalf("an expired account signed in: %d", resp.StatusCode)
		}
	})
}
