package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

type tokenList struct {
	Tokens []struct {
		ID, Name  string
		ExpiresAt time.Time  `json:"expires_at"`
		RevokedAt *time.Time `json:"revoked_at"`
	} `json:"data"`
}

// TestAPITokensExpireAndRevoke: tokens expire (old ones without an expiry
// too), are revoked one by one by their owner or an admin, and a disabled
// member's tokens stay dead when the member is enabled again.
func TestAPITokensExpireAndRevoke(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		adminM, _ := a.staffMember(staff.Admin, "boss")
		admin, _ := a.staff.CreateAPIToken(ctx, adminM.Email, "admin", "test")
		agentM, _ := a.staffMember(staff.Agent, "li")
		first, _ := a.staff.CreateAPIToken(ctx, agentM.Email, "first", "test")
		second, _ := a.staff.CreateAPIToken(ctx, agentM.Email, "second", "test")

		var own tokenList
		if code := a.getJSON("/api/v1/tokens", second, &own); code != http.StatusOK || len(own.Tokens) != 2 {
			t.Fatalf("own tokens: %d %+v", code, own)
		}
		if d := time.Until(own.Tokens[0].ExpiresAt); d < 80*24*time.Hour || d > staff.DefaultTokenTTL {
			t.Errorf("a new token expires in %v", d)
		}
		if code := a.getJSON("/api/v1/tokens?staff_id="+adminM.ID, second, nil); code != http.StatusForbidden {
			t.Errorf("an agent listed the admin's tokens: %d", code)
		}
		var admins tokenList
		a.getJSON("/api/v1/tokens", admin, &admins)
		if code := a.do(http.MethodDelete, "/api/v1/tokens/"+admins.Tokens[0].ID, second, "", nil, nil).StatusCode; code != http.StatusNotFound {
			t.Errorf("an agent revoked the admin's token: %d", code)
		}
		secondID := own.Tokens[0].ID // newest first
		if code := a.do(http.MethodDelete, "/api/v1/tokens/"+secondID, second, "", nil, nil).StatusCode; code != http.StatusNoContent {
			t.Fatalf("revoke own token: %d", code)
		}
		if a.getJSON("/api/v1/me", second, nil) != http.StatusUnauthorized || a.getJSON("/api/v1/me", first, nil) != http.StatusOK {
			t.Fatal("revoking one token did not end exactly that token")
		}
		if n := len(a.auditActions("token.revoke")); n != 1 {
			t.Errorf("%d token.revoke entries", n)
		}

		// Disabled, then enabled: the tokens stay revoked.
		if err := a.staff.DisableMember(ctx, agentM.ID, "staff:"+adminM.ID); err != nil {
			t.Fatal(err)
		}
		if err := a.staff.EnableMember(ctx, agentM.ID, "staff:"+adminM.ID); err != nil {
			t.Fatal(err)
		}
		if code := a.getJSON("/api/v1/me", first, nil); code != http.StatusUnauthorized {
			t.Errorf("a token came back to life when its member was enabled again: %d", code)
		}

		// Expired, and made before tokens had an expiry more than the
		// default lifetime ago.
		third, _ := a.staff.CreateAPIToken(ctx, agentM.Email, "third", "test")
		if code := a.getJSON("/api/v1/me", third, nil); code != http.StatusOK {
			t.Fatalf("a new token after enabling: %d", code)
		}
		a.exec(`UPDATE api_tokens SET expires_at = $1 WHERE name = 'third'`, time.Now().Add(-time.Minute).UTC())
		if code := a.getJSON("/api/v1/me", third, nil); code != http.StatusUnauthorized {
			t.Errorf("an expired token: %d", code)
		}
		a.exec(`UPDATE api_tokens SET expires_at = NULL, created_at = $1 WHERE name = 'admin'`, time.Now().Add(-staff.DefaultTokenTTL-time.Hour).UTC())
		if code := a.getJSON("/api/v1/me", admin, nil); code != http.StatusUnauthorized {
			t.Errorf("a token without an expiry, older than %v: %d", staff.DefaultTokenTTL, code)
		}
	})
}

func (a *app) exec(query string, args ...any) {
	a.t.Helper()
	if _, err := a.db.ExecContext(context.Background(), query, args...); err != nil {
		a.t.Fatal(err)
	}
}

// TestDashboardRevokesTokens: a member lists and revokes their own tokens
// under My account; an admin does the same for anyone from the Staff page;
// nobody else reaches another member's list.
func TestDashboardRevokesTokens(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	m, email := a.staffMember(staff.Marketer, "wang")
	own, _ := a.staff.CreateAPIToken(ctx, email, "crm sync", "test")
	other, _ := a.staff.CreateAPIToken(ctx, email, "report bot", "test")
	list, _ := a.staff.FindAPITokens(ctx, m.ID) // newest first: report bot, crm sync
	w := a.newWebClient()
	w.login(email, testPassword)
	if _, body := w.get("/account/tokens"); !strings.Contains(body, "crm sync") || !strings.Contains(body, "/account/tokens/"+list[1].ID+"/revoke") {
		t.Fatalf("the tokens page does not offer the token:\n%s", body)
	}
	if resp, body := w.post("/account/tokens/"+list[1].ID+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d\n%s", resp.StatusCode, body)
	}
	if code := a.getJSON("/api/v1/me", own, nil); code != http.StatusUnauthorized {
		t.Errorf("revoked from the dashboard, the token still works: %d", code)
	}
	if resp, _ := w.get("/staff/" + m.ID + "/tokens"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a marketer reached the staff tokens page: %d", resp.StatusCode)
	}

	_, adminEmail := a.staffMember(staff.Admin, "boss")
	admin := a.newWebClient()
	admin.login(adminEmail, testPassword)
	if _, body := admin.get("/staff/" + m.ID + "/tokens"); !strings.Contains(body, "report bot") {
		t.Fatalf("the admin does not see the member's tokens:\n%s", body)
	}
	if resp, _ := admin.post("/staff/"+m.ID+"/tokens/"+list[0].ID+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/staff/"+m.ID+"/tokens?done=token_revoked" {
		t.Fatalf("admin revoke: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code := a.getJSON("/api/v1/me", other, nil); code != http.StatusUnauthorized {
		t.Errorf("revoked by an admin, the token still works: %d", code)
	}
}
