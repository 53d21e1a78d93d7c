package staff_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/staff"
)

func TestTokensAuthenticateOnlyEnabledMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := staff.NewStore(db)
		m := &staff.Member{Email: "Agent@Example.com", Role: staff.Agent}
		if err := s.CreateMember(ctx, m, "correct horse battery", "cli"); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateMember(ctx, &staff.Member{Email: "agent@example.com", Role: staff.Agent}, "", "cli"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("duplicate email: %v, want conflict", err)
		}
		token, err := s.CreateAPIToken(ctx, "agent@example.com", "test", "cli")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Authenticate(ctx, token)
		if err != nil || got.ID != m.ID || got.Role != staff.Agent {
			t.Fatalf("authenticate = %+v, %v", got, err)
		}
		for _, bad := range []string{"", "hov_", token + "x", "Bearer " + token} {
			if _, err := s.Authenticate(ctx, bad); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
				t.Errorf("token %q: %v, want unauthorized", bad, err)
			}
		}
		var stored int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens WHERE token_hash = $1`, token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the token is stored in plaintext")
		}
		db.ExecContext(ctx, `UPDATE staff SET disabled_at = $1 WHERE id = $2`, db.Now(), m.ID)
		if _, err := s.Authenticate(ctx, token); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Fatalf("disabled member's token: %v, want unauthorized", err)
		}
	})
}

func TestCreateMemberValidates(t *testing.T) {
	s := staff.NewStore(dbtest.SQLite(t))
	ctx := context.Background()
	for _, c := range []struct {
		m        staff.Member
		password string
	}{
		{staff.Member{Email: "not-an-email", Role: staff.Admin}, ""},
		{staff.Member{Email: "a@example.com", Role: "owner"}, ""},
		{staff.Member{Email: "a@example.com", Role: staff.Admin}, "short"},
	} {
		if err := s.CreateMember(ctx, &c.m, c.password, "cli"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("%+v: %v, want invalid", c.m, err)
		}
	}
}

func TestBootstrapOnlyOnEmptyDatabase(t *testing.T) {
	s := staff.NewStore(dbtest.SQLite(t))
	ctx := context.Background()
	first, err := s.Bootstrap(ctx, "admin@example.com")
	if err != nil || first == nil || first.Password == "" || first.Token == "" {
		t.Fatalf("bootstrap = %+v, %v", first, err)
	}
	if again, err := s.Bootstrap(ctx, "admin@example.com"); err != nil || again != nil {
		t.Fatalf("second bootstrap = %+v, %v; want nothing", again, err)
	}
	if m, err := s.Authenticate(ctx, first.Token); err != nil || m.Role != staff.Admin {
		t.Fatalf("first admin token: %+v, %v", m, err)
	}
}

func TestPasswordHash(t *testing.T) {
	h := staff.HashPassword("correct horse battery")
	if !staff.VerifyPassword(h, "correct horse battery") || staff.VerifyPassword(h, "wrong horse battery") || staff.VerifyPassword("garbage", "x") {
		t.Fatal("password verification is wrong")
	}
}

func TestRolePermissions(t *testing.T) {
	if !staff.Agent.Can(staff.RevealCustomers) || staff.Marketer.Can(staff.RevealCustomers) || staff.Auditor.Can(staff.RevealCustomers) {
		t.Fatal("reveal permissions are wrong")
	}
	if staff.Auditor.Can(staff.ImportCustomers) || staff.Agent.Can(staff.WriteTransfers) || !staff.Admin.Can(staff.WriteTransfers) {
		t.Fatal("write permissions are wrong")
	}
	if !staff.Agent.Can(staff.ReviewCorrections) || !staff.Admin.Can(staff.ReviewCorrections) || staff.Marketer.Can(staff.ReviewCorrections) ||
		!staff.Admin.Can(staff.EraseCustomers) || staff.Agent.Can(staff.EraseCustomers) || staff.Auditor.Can(staff.EraseCustomers) {
		t.Fatal("rights permissions are wrong")
	}
	// Tickets: agents and admins work them, auditors read, admins configure.
	for role, want := range map[staff.Role][3]bool{staff.Admin: {true, true, true}, staff.Agent: {true, true, false},
		staff.Auditor: {true, false, false}, staff.Marketer: {false, false, false}} {
		got := [3]bool{role.Can(staff.ReadTickets), role.Can(staff.WriteTickets), role.Can(staff.ConfigureTickets)}
		if got != want {
			t.Fatalf("%s ticket permissions %v, want %v", role, got, want)
		}
	}
}
