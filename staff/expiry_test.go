package staff_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/staff"
)

// TestExpiredAccountIsRefusedAtOnce: a third-party account stops at its
// expiry, at sign-in and on the next request of a session or token it
// already holds, without waiting for the housekeeping task.
func TestExpiredAccountIsRefusedAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		db.Now = func() time.Time { return now }
		s := staff.NewStore(db)
		past := now.Add(-24 * time.Hour)
		if err := s.CreateMember(ctx, &staff.Member{Email: "old@example.com", Role: staff.Agent, ExpiresAt: &past}, "", "test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("an account that has already expired was created: %v", err)
		}
		ends := now.Add(time.Hour)
		if err := s.CreateMember(ctx, &staff.Member{Email: "agency@example.com", Role: staff.Agent, ExpiresAt: &ends}, "correct horse battery", "test"); err != nil {
			t.Fatal(err)
		}
		in := staff.LoginInput{Email: "agency@example.com", Password: "correct horse battery", IP: "192.0.2.1"}
		sess, _, err := s.Login(ctx, in, staff.SessionPolicy{})
		if err != nil {
			t.Fatal(err)
		}
		token, err := s.CreateAPIToken(ctx, "agency@example.com", "agency", "test")
		if err != nil {
			t.Fatal(err)
		}

		now = ends.Add(time.Second) // the housekeeping task has not run
		if _, _, err := s.FindSession(ctx, sess.Token, staff.SessionPolicy{Idle: 3 * time.Hour}); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("a session outlived its account's expiry: %v", err)
		}
		if _, err := s.Authenticate(ctx, token); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("a token outlived its account's expiry: %v", err)
		}
		if _, _, err := s.Login(ctx, in, staff.SessionPolicy{}); handover.ErrorCode(err) != handover.EUNAUTHORIZED || handover.ErrorMessage(err) != "This account has expired; ask an admin." {
			t.Errorf("an expired account signed in: %v", err)
		}
	})
}
