package audit_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func record(t *testing.T, db *database.DB, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		err := db.InTx(context.Background(), func(tx *database.Tx) error {
			return audit.Record(context.Background(), tx, audit.Entry{Actor: "staff:s1", Action: "customer.reveal", ObjectType: "customer", ObjectID: fmt.Sprint("c", i)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainVerifiesAndDetectsTampering(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		record(t, db, 5)
		r, err := audit.Verify(ctx, db)
		if err != nil || !r.OK() || r.Checked != 5 {
			t.Fatalf("verify = %+v, %v; want 5 checked and ok", r, err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE audit_log SET actor = 'staff:other' WHERE seq = 3`); err != nil {
			t.Fatal(err)
		}
		r, err = audit.Verify(ctx, db)
		if err != nil || r.BrokenSeq != 3 {
			t.Fatalf("after edit verify = %+v, %v; want broken at 3", r, err)
		}
	})
}

func TestVerifyDetectsDeletion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		record(t, db, 4)
		db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 2`)
		if r, _ := audit.Verify(ctx, db); r.BrokenSeq != 2 {
			t.Fatalf("middle deletion: %+v, want broken at 2", r)
		}
		db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq >= 2`)
		if r, _ := audit.Verify(ctx, db); r.BrokenSeq != 2 {
			t.Fatalf("tail deletion: %+v, want broken at 2", r)
		}
	})
}

func TestConcurrentAppendsNeverFork(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() { defer wg.Done(); record(t, db, 10) }()
		}
		wg.Wait()
		r, err := audit.Verify(context.Background(), db)
		if err != nil || !r.OK() || r.Checked != 40 {
			t.Fatalf("verify = %+v, %v; want 40 and ok", r, err)
		}
	})
}
