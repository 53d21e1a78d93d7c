package governance_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
)

// TestFreshInstallIsClosed is finding 7: before any agreement was
// published the gate was open. The shipped agreement and training close a
// fresh installation until a member accepts and passes; installing again
// changes nothing, and a retired module stays retired.
func TestFreshInstallIsClosed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		g := governance.New(db, governance.Config{})
		marketer := newMember(t, staff.NewStore(db), "m@example.com", staff.Marketer)
		if err := g.CheckAccess(ctx, marketer); err != nil {
			t.Fatalf("an empty database has nothing to accept: %v", err)
		}
		agreement, modules, err := g.InstallDefaults(ctx)
		if err != nil || !agreement || modules != 4 {
			t.Fatalf("install = %v %d %v", agreement, modules, err)
		}
		wantForbidden(t, g.CheckAccess(ctx, marketer), "agreement")
		a, err := g.CurrentAgreement(ctx)
		if err != nil || a.PublishedBy != governance.DefaultActor {
			t.Fatalf("agreement %+v, %v", a, err)
		}
		if err := g.AcceptAgreement(ctx, marketer, a.Hash, "127.0.0.1"); err != nil {
			t.Fatal(err)
		}
		due, err := g.DueTraining(ctx, marketer)
		if err != nil || len(due) != 1 {
			t.Fatalf("due %+v, %v", due, err)
		}
		wantForbidden(t, g.CheckAccess(ctx, marketer), due[0].Title)
		var answers []int
		for _, q := range due[0].Questions {
			answers = append(answers, q.Answer)
		}
		if r, err := g.TakeTraining(ctx, marketer, due[0].ID, answers); err != nil || !r.Passed {
			t.Fatalf("training %+v, %v", r, err)
		}
		if err := g.CheckAccess(ctx, marketer); err != nil {
			t.Fatal(err)
		}
		if err := g.RetireModule(ctx, due[0].ID, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if agreement, modules, err := g.InstallDefaults(ctx); err != nil || agreement || modules != 0 {
			t.Fatalf("second install = %v %d %v", agreement, modules, err)
		}
	})
}

// TestInstallDefaultsFromSeveralProcesses: api and worker starting
// together on a fresh database both install the defaults; neither fails,
// and there is one agreement and one default module per role.
func TestInstallDefaultsFromSeveralProcesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		const n = 4
		errs := make(chan error, n)
		for range n {
			go func() {
				_, _, err := governance.New(db, governance.Config{}).InstallDefaults(ctx)
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("a concurrent install failed: %v", err)
			}
		}
		var agreements, modules, roles int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM agreements`).Scan(&agreements); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT role) FROM training_modules`).Scan(&modules, &roles); err != nil {
			t.Fatal(err)
		}
		if agreements != 1 || modules != 4 || roles != 4 {
			t.Fatalf("%d agreements, %d modules for %d roles; want 1, 4, 4", agreements, modules, roles)
		}
	})
}
