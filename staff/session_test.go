package staff_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/staff"
)

// FuzzValidSessionToken: only 43 base64url characters pass, so nothing
// else a cookie carries reaches a query.
func FuzzValidSessionToken(f *testing.F) {
	for _, seed := range []string{"", staff.NewToken(), strings.Repeat("=", 43), strings.Repeat("a", 44), "a b", "\xff"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !staff.ValidSessionToken(s) {
			return
		}
		if len(s) != staff.SessionTokenLen || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			t.Fatalf("accepted %q", s)
		}
	})
}

func TestSessionLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := staff.NewStore(db)
		m := &staff.Member{Email: "a@example.com", Role: staff.Agent}
		if err := s.CreateMember(ctx, m, "correct horse battery", "test"); err != nil {
			t.Fatal(err)
		}
		sess, got, err := s.Login(ctx, staff.LoginInput{Email: " A@Example.com ", Password: "correct horse battery", IP: "192.0.2.1"}, staff.SessionPolicy{})
		if err != nil || got.ID != m.ID || !staff.ValidSessionToken(sess.Token) || !staff.ValidSessionToken(sess.CSRFToken) {
			t.Fatalf("login = %+v %+v %v", sess, got, err)
		}
		if _, found, err := s.FindSession(ctx, sess.Token, staff.SessionPolicy{}); err != nil || found.ID != m.ID {
			t.Fatalf("find = %+v %v", found, err)
		}
		if err := s.EndSession(ctx, sess.Token); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.FindSession(ctx, sess.Token, staff.SessionPolicy{}); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Fatalf("ended session: %v", err)
		}
		if err := s.EndSession(ctx, sess.Token); err != nil {
			t.Fatalf("ending twice: %v", err)
		}
	})
}
