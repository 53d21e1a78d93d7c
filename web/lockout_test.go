package web_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestWrongPasswordsLockOnlyThatAddress: five wrong passwords from one
// address used to lock the account (admin included) from everywhere for
// 15 minutes. Now the guesser's address is locked out of that account,
// the owner elsewhere signs in, and an admin can unlock it, audited.
func TestWrongPasswordsLockOnlyThatAddress(t *testing.T) {
	eachBackendWith(t, []string{"HANDOVER_TRUSTED_PROXIES=127.0.0.1/32"}, func(t *testing.T, a *app) {
		victim, email := a.staffMember(staff.Admin, "victim")
		guesser := a.newWebClient()
		guesser.forwardedFor = "198.51.100.66"
		guesser.get("/login")
		for range staff.MaxFailuresPerAccount {
			guesser.post("/login", url.Values{"email": {email}, "password": {"wrong password!"}})
		}
		if resp, _ := guesser.post("/login", url.Values{"email": {email}, "password": {testPassword}}); resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("the guessing address is not throttled: %d", resp.StatusCode)
		}

		owner := a.newWebClient()
		owner.forwardedFor = "203.0.113.9"
		owner.login(email, testPassword) // fails the test if locked out

		_, other := a.staffMember(staff.Admin, "colleague")
		colleague := a.newWebClient()
		colleague.forwardedFor = "203.0.113.10"
		colleague.login(other, testPassword)
		colleague.get("/staff")
		if resp, body := colleague.post("/staff/"+victim.ID+"/unlock", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("unlock: %d\n%s", resp.StatusCode, body)
		}
		if len(a.auditActions("staff.unlock")) != 1 {
			t.Error("the unlock is not audited")
		}
		guesser.get("/login")
		if resp, _ := guesser.post("/login", url.Values{"email": {email}, "password": {testPassword}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after the unlock: %d", resp.StatusCode)
		}
	})
}

// TestUnlockAPI: only staff.manage unlocks, through the API too.
func TestUnlockAPI(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	victim, _ := a.staffMember(staff.Agent, "locked")
	admin := a.tokenFor(staff.Admin)
	if code := a.postJSON("/api/v1/staff/"+victim.ID+"/unlock", a.tokenFor(staff.Marketer), ``, nil); code != http.StatusForbidden {
		t.Errorf("a marketer unlocked an account: %d", code)
	}
	if code := a.postJSON("/api/v1/staff/"+victim.ID+"/unlock", admin, ``, nil); code != http.StatusNoContent {
		t.Errorf("an admin's unlock: %d", code)
	}
	if code := a.postJSON("/api/v1/staff/nobody/unlock", admin, ``, nil); code != http.StatusNotFound {
		t.Errorf("unlocking nobody: %d", code)
	}
}
