package database_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestSQLiteWritersTakeTurns: a writer (a transaction or a single
// statement) that asks while another commits and begins again in a loop (a
// campaign being planned in chunks) gets the next turn, not the end of the
// loop; one that gives up while queued (its context ends) leaves its place
// to the others.
func TestSQLiteWritersTakeTurns(t *testing.T) {
	ctx := context.Background()
	db := dbtest.SQLite(t)
	if _, err := db.ExecContext(ctx, `CREATE TABLE turns (id INTEGER PRIMARY KEY, by TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	write := func(tx *database.Tx, by string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO turns (by) VALUES ($1)`, by)
		return err
	}
	var done atomic.Int32 // the loop's committed transactions
	started := make(chan struct{})
	loop := make(chan error, 1)
	go func() {
		for i := range 30 {
			err := db.InTx(ctx, func(tx *database.Tx) error {
				if i == 1 {
					close(started)
				}
				time.Sleep(20 * time.Millisecond)
				return write(tx, "loop")
			})
			if err != nil {
				loop <- err
				return
			}
			done.Add(1)
		}
		loop <- nil
	}()
	<-started // the loop holds its second transaction
	var seen int32
	if err := db.InTx(ctx, func(tx *database.Tx) error { seen = done.Load(); return write(tx, "other") }); err != nil {
		t.Fatal(err)
	}
	if seen > 2 {
		t.Errorf("the waiting writer ran after %d of the loop's transactions; want its turn after the second", seen)
	}
	// A statement outside a transaction queues the same way.
	time.Sleep(30 * time.Millisecond)
	at := done.Load()
	if _, err := db.ExecContext(ctx, `INSERT INTO turns (by) VALUES ('statement')`); err != nil {
		t.Fatal(err)
	}
	if after := done.Load(); after > at+2 {
		t.Errorf("the statement ran after %d more of the loop's transactions; want its turn after the one running", after-at)
	}
	if err := <-loop; err != nil {
		t.Fatal(err)
	}

	held, err := db.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if tx, err := db.BeginTx(cancelled); !errors.Is(err, context.DeadlineExceeded) {
		if tx != nil {
			tx.Rollback()
		}
		t.Fatalf("begin while another writer holds its turn, the context ending: %v; want the context's error", err)
	}
	if err := held.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *database.Tx) error { return write(tx, "after") }); err != nil {
		t.Fatalf("after a writer gave up its place: %v", err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM turns`).Scan(&n); err != nil || n != 33 {
		t.Fatalf("rows %d, %v; want 33", n, err)
	}
}
