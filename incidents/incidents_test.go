package incidents_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/incidents"
)

func insertCustomer(t *testing.T, db *database.DB, id string) {
	t.Helper()
	now := db.Now()
	if _, err := db.ExecContext(context.Background(), `INSERT INTO customers (id, created_at, updated_at) VALUES ($1, $2, $2)`, id, now); err != nil {
		t.Fatal(err)
	}
}

func TestIncidentLifecycle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := incidents.NewStore(db)
		insertCustomer(t, db, "c1")
		insertCustomer(t, db, "c2")
		at := time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)
		in := &incidents.Incident{Title: "导出文件误发", DataCategories: []string{"name", "phone"}, Cause: "员工误将文件发给外部邮箱",
			Measures: "已要求对方删除并确认", Contact: "dpo@jia.example.com", OccurredAt: at, DiscoveredAt: at.Add(2 * time.Hour)}
		if err := s.Record(ctx, &incidents.Incident{Title: "x", DataCategories: []string{"id_card"}, Cause: "c", Measures: "m", Contact: "c",
			OccurredAt: at, DiscoveredAt: at}, nil, "staff:a"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("unknown category: %v", err)
		}
		if err := s.Record(ctx, in, []string{"c1", "nobody"}, "staff:a"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("unknown customer: %v", err)
		}
		if err := s.Record(ctx, in, []string{"c1", "c2", "c1"}, "staff:a"); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, in.ID, "status", "contained", "staff:a"); err != nil {
			t.Fatal(err)
		}
		if err := s.AddEvent(ctx, in.ID, "status", "gone", "staff:a"); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("bad status: %v", err)
		}
		got, err := s.FindIncidentByID(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Affected != 2 || got.Status != incidents.StatusContained || len(got.Timeline) != 2 || got.Timeline[1].Kind != "status" {
			t.Fatalf("incident = %+v", got)
		}
		ids, err := s.AffectedCustomers(ctx, in.ID)
		if err != nil || len(ids) != 2 {
			t.Fatalf("affected = %v, %v", ids, err)
		}
		var audits int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE object_type = 'incident' AND object_id = $1`, in.ID).Scan(&audits)
		if audits != 2 {
			t.Errorf("audit entries = %d, want 2", audits)
		}
	})
}
