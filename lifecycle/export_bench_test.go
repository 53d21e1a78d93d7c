package lifecycle_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

// benchCustomers is BENCH_LIFECYCLE_ROWS, default 100,000 (the issue's
// figure is for 1,000,000).
var benchCustomers = func() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_LIFECYCLE_ROWS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

// benchWorld imports n customers into a fresh SQLite data dir and makes a
// transfer every one of them granted.
func benchWorld(b *testing.B, n int) (*database.DB, *customers.Store, *transfers.Transfer, string) {
	ctx := context.Background()
	dir := b.TempDir()
	master, _ := masterkey.Parse(masterkey.Generate())
	kr, _ := pii.NewKeyring(master)
	db, err := database.OpenSQLite(ctx, filepath.Join(dir, "handover.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	vault, err := pii.OpenVault(ctx, db, kr)
	if err != nil {
		b.Fatal(err)
	}
	cs := customers.NewStore(db, vault)
	var sb strings.Builder
	sb.WriteString("姓名,手机,邮箱\n")
	for i := range n {
		fmt.Fprintf(&sb, "客户%d,139%08d,c%d@example.com\n", i, i, i)
	}
	path := filepath.Join(b.TempDir(), "c.csv")
	if err := os.WriteFile(path, []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	if _, err := importer.New(cs, filepath.Join(b.TempDir(), "spool"), nil).Run(ctx, path, nil, "bench", nil); err != nil {
		b.Fatal(err)
	}
	tr := &transfers.Transfer{SellerName: "甲", BuyerName: "乙", BuyerContact: "400", EffectiveDate: "2026-03-01",
		Purposes: []string{"订单履约"}, DataCategories: []string{"name", "phone"}, RetentionDays: 30}
	if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "bench"); err != nil {
		b.Fatal(err)
	}
	// Consent state written directly: the ledger is not what is measured.
	err = db.InTx(ctx, func(tx *database.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO consent_state (customer_id, transfer_id, purpose, decision, event_id, updated_at)
			SELECT id, $1, '订单履约', 'granted', id, $2 FROM customers`, tr.ID, tx.Now)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return db, cs, tr, dir
}

// BenchmarkExport exports benchCustomers customers who granted every purpose
// (filter, open, minimise, encrypt, write) and reports customers/s.
func BenchmarkExport(b *testing.B) {
	n := benchCustomers
	ctx := context.Background()
	db, cs, tr, _ := benchWorld(b, n)
	buyer, _ := age.GenerateX25519Identity()
	ex := lifecycle.NewExporter(db, cs, transfers.NewStore(db))
	approveExport(b, db, tr)
	b.ResetTimer()
	for range b.N {
		m, err := ex.Export(ctx, lifecycle.ExportRequest{TransferID: tr.ID, Recipient: buyer.Recipient().String(), Actor: "bench"}, io.Discard)
		if err != nil || m.Customers != n {
			b.Fatalf("exported %v, %v", m, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "customers/s")
}

// BenchmarkCryptoShred destroys benchCustomers customers under an approved plan
// (keys, rows, verification, report) and reports customers/s.
func BenchmarkCryptoShred(b *testing.B) {
	ctx := context.Background()
	for range b.N {
		b.StopTimer()
		db, _, tr, dir := benchWorld(b, benchCustomers)
		admin, auditor := &staff.Member{ID: "a", Role: staff.Admin}, &staff.Member{ID: "b", Role: staff.Auditor}
		d := lifecycle.NewDestroyer(db, transfers.NewStore(db), dir)
		p, err := d.RequestDestruction(ctx, tr.ID, 1, admin)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.ApproveDestruction(ctx, p.ID, auditor); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r, err := d.RunDestruction(ctx, p.ID, "bench")
		if err != nil || r.Plan.DestroyedCount != int64(benchCustomers) {
			b.Fatalf("destroyed %v, %v", r, err)
		}
	}
	b.ReportMetric(float64(benchCustomers*b.N)/b.Elapsed().Seconds(), "customers/s")
}
