package governance_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
)

// clock lets a test move db.Now.
type clock struct{ now time.Time }

func (c *clock) install(db *database.DB) { db.Now = func() time.Time { return c.now } }

func newMember(t *testing.T, st *staff.Store, email string, role staff.Role) *staff.Member {
	t.Helper()
	m := &staff.Member{Email: email, Name: email, Role: role}
	if err := st.CreateMember(context.Background(), m, "", "cli"); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantForbidden(t *testing.T, err error, mention string) {
	t.Helper()
	if handover.ErrorCode(err) != handover.EFORBIDDEN || !strings.Contains(handover.ErrorMessage(err), mention) {
		t.Fatalf("got %v, want a 403 that mentions %q", err, mention)
	}
}

func TestAgreementGate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		c.install(db)
		g := governance.New(db, governance.Config{AgreementPeriod: 30 * 24 * time.Hour})
		agent := newMember(t, staff.NewStore(db), "agent@example.com", staff.Agent)

		if err := g.CheckAccess(ctx, agent); err != nil {
			t.Fatalf("no agreement published yet: %v", err)
		}
		v1, err := g.PublishAgreement(ctx, "我承诺对客户信息保密。", "I keep customer data confidential.", "staff:admin")
		if err != nil {
			t.Fatal(err)
		}
		wantForbidden(t, g.CheckAccess(ctx, agent), governance.AgreementPath)
		if err := g.AcceptAgreement(ctx, agent, "stale", "198.51.100.7"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("accepting a text not shown: %v", err)
		}
		if err := g.AcceptAgreement(ctx, agent, v1.Hash, "198.51.100.7"); err != nil {
			t.Fatal(err)
		}
		if err := g.CheckAccess(ctx, agent); err != nil {
			t.Fatalf("after accepting: %v", err)
		}
		// A new version blocks again.
		v2, err := g.PublishAgreement(ctx, "第二版。", "Version two.", "staff:admin")
		if err != nil || v2.Version != 2 {
			t.Fatalf("v2 = %+v, %v", v2, err)
		}
		wantForbidden(t, g.CheckAccess(ctx, agent), "agreement")
		if err := g.AcceptAgreement(ctx, agent, v2.Hash, ""); err != nil {
			t.Fatal(err)
		}
		// The period runs out.
		c.now = c.now.Add(31 * 24 * time.Hour)
		wantForbidden(t, g.CheckAccess(ctx, agent), "agreement")
		if err := g.AcceptAgreement(ctx, agent, v2.Hash, ""); err != nil {
			t.Fatal(err)
		}
		if err := g.CheckAccess(ctx, agent); err != nil {
			t.Fatal(err)
		}
		if n := countAudit(t, db, "agreement.accept"); n != 3 {
			t.Errorf("agreement.accept audit entries = %d, want 3", n)
		}
	})
}

func TestTrainingGate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		g := governance.New(db, governance.Config{})
		st := staff.NewStore(db)
		agent := newMember(t, st, "agent@example.com", staff.Agent)
		marketer := newMember(t, st, "m@example.com", staff.Marketer)
		mod := &governance.Module{Role: staff.Agent, Title: "个人信息保护基础", Body: "只在工作需要时查看客户信息。",
			Questions: []governance.Question{
				{Q: "何时可以查看客户手机号？", Options: []string{"随时", "处理工单需要时"}, Answer: 1},
				{Q: "可以把客户名单发到个人邮箱吗？", Options: []string{"不可以", "可以"}, Answer: 0},
			}, PassScore: 100}
		if err := g.CreateModule(ctx, mod, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if err := g.CreateModule(ctx, &governance.Module{Role: staff.Agent, Title: "x", Body: "y",
			Questions: []governance.Question{{Q: "?", Options: []string{"only one"}}}}, "staff:admin"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("a question with one option: %v", err)
		}
		wantForbidden(t, g.CheckAccess(ctx, agent), mod.Title)
		if err := g.CheckAccess(ctx, marketer); err != nil {
			t.Errorf("another role's training blocks the marketer: %v", err)
		}
		if _, err := g.TakeTraining(ctx, marketer, mod.ID, []int{1, 0}); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("taking another role's module: %v", err)
		}
		if _, err := g.TakeTraining(ctx, agent, mod.ID, []int{1}); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("half the answers: %v", err)
		}
		r, err := g.TakeTraining(ctx, agent, mod.ID, []int{0, 0})
		if err != nil || r.Passed || r.Score != 50 {
			t.Fatalf("wrong answer: %+v, %v", r, err)
		}
		wantForbidden(t, g.CheckAccess(ctx, agent), "training")
		if r, err = g.TakeTraining(ctx, agent, mod.ID, []int{1, 0}); err != nil || !r.Passed {
			t.Fatalf("right answers: %+v, %v", r, err)
		}
		if err := g.CheckAccess(ctx, agent); err != nil {
			t.Fatal(err)
		}
		results, err := g.TrainingResults(ctx, agent.ID)
		if err != nil || len(results) != 2 || !results[0].Passed {
			t.Fatalf("results = %+v, %v", results, err)
		}
	})
}

func TestAccessReviewAndExpiry(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := &clock{now: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
		c.install(db)
		g := governance.New(db, governance.Config{})
		st := staff.NewStore(db)
		admin := newMember(t, st, "admin@example.com", staff.Admin)
		agent := newMember(t, st, "agent@example.com", staff.Agent)
		for range 3 {
			recordAudit(t, db, agent.Actor(), "customer.reveal", `{"reason":"ticket 12"}`)
		}
		token, err := st.CreateAPIToken(ctx, agent.Email, "ci", "cli")
		if err != nil {
			t.Fatal(err)
		}
		due, err := g.ReviewDue(ctx)
		if err != nil || !due {
			t.Fatalf("first review due = %v, %v", due, err)
		}
		r, err := g.StartReview(ctx, admin.Actor())
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Items) != 2 || r.Items[1].Email != agent.Email || r.Items[1].Reveals != 3 || r.Items[1].Decision != "pending" {
			t.Fatalf("review items = %+v", r.Items)
		}
		if err := g.DecideReviewItem(ctx, r.ID, admin.ID, "confirmed", "", admin.Actor()); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("confirming yourself: %v", err)
		}
		if err := g.DecideReviewItem(ctx, r.ID, agent.ID, "revoked", "left the team", admin.Actor()); err != nil {
			t.Fatal(err)
		}
		if err := g.DecideReviewItem(ctx, r.ID, agent.ID, "confirmed", "", admin.Actor()); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("deciding twice: %v", err)
		}
		if _, err := st.Authenticate(ctx, token); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("a revoked account's token still works: %v", err)
		}
		c.now = c.now.Add(8 * 24 * time.Hour)
		r, _ = g.FindReviewByID(ctx, r.ID)
		if r.Status != "open" || !r.Items[0].Flagged || r.Items[1].Flagged {
			t.Errorf("after a week: status %s, items %+v", r.Status, r.Items)
		}
		if due, err := g.ReviewDue(ctx); err != nil || due {
			t.Errorf("a review is due a week after the last: %v", err)
		}

		// Third-party accounts stop at their expiry.
		expires := c.now.Add(24 * time.Hour)
		buyer := &staff.Member{Email: "buyer.staff@yi.example.com", Role: staff.Auditor, ExpiresAt: &expires}
		if err := st.CreateMember(ctx, buyer, "", "cli"); err != nil {
			t.Fatal(err)
		}
		btoken, err := st.CreateAPIToken(ctx, buyer.Email, "buyer", "cli")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Authenticate(ctx, btoken); err != nil {
			t.Fatalf("before expiry: %v", err)
		}
		c.now = c.now.Add(25 * time.Hour)
		if _, err := st.Authenticate(ctx, btoken); handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			t.Errorf("after expiry the token works: %v", err)
		}
		if n, err := g.DisableExpiredStaff(ctx); err != nil || n != 1 {
			t.Errorf("disabled %d, %v", n, err)
		}
		m, _ := st.FindMemberByID(ctx, buyer.ID)
		if m.Active(c.now) || m.DisabledAt == nil {
			t.Errorf("expired member still active: %+v", m)
		}
	})
}

func TestAccessReport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		// Tuesday 10:00 in Shanghai.
		c := &clock{now: time.Date(2026, 3, 3, 2, 0, 0, 0, time.UTC)}
		c.install(db)
		g := governance.New(db, governance.Config{})
		for range 30 {
			recordAudit(t, db, "staff:heavy", "customer.reveal", `{"reason":"=HYPERLINK(\"x\")"}`)
		}
		for _, a := range []string{"staff:a", "staff:b", "staff:c"} {
			recordAudit(t, db, a, "customer.reveal", `{"reason":"ticket"}`)
		}
		recordAudit(t, db, "staff:a", "customer.import", "")
		c.now = time.Date(2026, 3, 3, 15, 0, 0, 0, time.UTC) // 23:00 local
		recordAudit(t, db, "staff:b", "customer.reveal", `{"reason":"late"}`)
		entries, err := g.AccessReport(ctx, governance.AccessFilter{From: c.now.Add(-time.Hour * 24)})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 34 {
			t.Fatalf("entries = %d, want 34 (imports are not personal-data access)", len(entries))
		}
		if e := entries[0]; e.Actor != "staff:b" || e.Reason != "late" || strings.Join(e.Flags, ",") != "hours" {
			t.Errorf("late entry = %+v", e)
		}
		heavy := 0
		for _, e := range entries {
			if e.Actor == "staff:heavy" && len(e.Flags) == 1 && e.Flags[0] == "volume" {
				heavy++
			}
		}
		if heavy != 30 {
			t.Errorf("volume-flagged entries = %d, want 30", heavy)
		}
		var buf bytes.Buffer
		if err := governance.WriteAccessCSV(&buf, entries); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), `'=HYPERLINK`) {
			t.Errorf("a formula in a reason is not defused:\n%s", buf.String()[:300])
		}
	})
}

func recordAudit(t *testing.T, db *database.DB, actor, action, detail string) {
	t.Helper()
	ctx := context.Background()
	if err := db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "customer", ObjectID: "c1", Detail: detail})
	}); err != nil {
		t.Fatal(err)
	}
}

func countAudit(t *testing.T, db *database.DB, action string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1`, action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
