package archive_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/archive"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func seed(t *testing.T, db *database.DB, effective string, customers int) {
	t.Helper()
	ctx := context.Background()
	now := db.Now()
	if _, err := db.ExecContext(ctx, `INSERT INTO transfers (id, seller_name, buyer_name, buyer_contact, effective_date, purposes,
		data_categories, retention_days, created_by, created_at) VALUES ('t1', 'a', 'b', 'c', $1, '营销,售后', 'name', 30, 'x', $2)`, effective, now); err != nil {
		t.Fatal(err)
	}
	for i := range customers {
		status := "active"
		if i == 4 {
			status = "erased"
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO customers (id, status, created_at, updated_at) VALUES ($1, $2, $3, $3)`, fmt.Sprintf("c%02d", i), status, now); err != nil {
			t.Fatal(err)
		}
	}
	// c00 granted both, c01 granted one, c02 declined, c03 withdrew.
	for _, cs := range []struct{ c, p, d string }{{"c00", "营销", "granted"}, {"c00", "售后", "granted"}, {"c01", "营销", "granted"},
		{"c01", "售后", "declined"}, {"c02", "营销", "declined"}, {"c03", "售后", "withdrawn"}} {
		if _, err := db.ExecContext(ctx, `INSERT INTO consent_state (customer_id, transfer_id, purpose, decision, event_id, updated_at)
			VALUES ($1, 't1', $2, $3, 'e', $4)`, cs.c, cs.p, cs.d, now); err != nil {
			t.Fatal(err)
		}
	}
}

func TestArchiveCustomers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		db.Now = func() time.Time { return time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC) }
		seed(t, db, "2026-03-02", 12)
		s := archive.NewStore(db)
		s.BatchSize = 5
		if _, err := s.ArchiveCustomers(ctx, "t1", "staff:a", nil); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("before the effective date: %v", err)
		}
		db.Now = func() time.Time { return time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC) }
		var progress []int
		n, err := s.ArchiveCustomers(ctx, "t1", "staff:a", func(done int) { progress = append(progress, done) })
		if err != nil || n != 12 || fmt.Sprint(progress) != "[5 10 12]" {
			t.Fatalf("archived %d, %v, progress %v", n, err, progress)
		}
		if n, err := s.ArchiveCustomers(ctx, "t1", "staff:a", nil); err != nil || n != 0 {
			t.Fatalf("second run archived %d, %v", n, err)
		}
		list, next, err := s.FindRecords(ctx, archive.Filter{TransferID: "t1", Limit: 100})
		if err != nil || next != "" || len(list) != 12 {
			t.Fatalf("records: %d %q %v", len(list), next, err)
		}
		want := map[string]string{"c00": archive.ClassConsented, "c01": archive.ClassPartial, "c02": archive.ClassDeclined,
			"c03": archive.ClassDeclined, "c04": archive.ClassErased, "c05": archive.ClassNoResponse}
		for i, r := range list {
			if r.ArchiveNo != fmt.Sprintf("HO-2026-0001-%06d", i+1) {
				t.Errorf("record %d number %s", i, r.ArchiveNo)
			}
			if w, ok := want[r.RecordID]; ok && r.Classification != w {
				t.Errorf("%s classified %s, want %s", r.RecordID, r.Classification, w)
			}
		}
		page, next, _ := s.FindRecords(ctx, archive.Filter{TransferID: "t1", Classification: archive.ClassNoResponse, Limit: 3})
		if len(page) != 3 || next == "" {
			t.Fatalf("page = %d, next %q", len(page), next)
		}
		if ok, _ := s.IsArchived(ctx, archive.RecordCustomer, "c07"); !ok {
			t.Error("c07 not archived")
		}
		var buf bytes.Buffer
		if err := s.WriteIndex(ctx, &buf, "t1"); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 13 || rows[1][0] != "HO-2026-0001-000001" {
			t.Fatalf("index: %d rows, %v", len(rows), err)
		}
	})
}
