package database_test

import (
	"context"
	"errors"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestMigrateIsIdempotentAndMapsErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("second migrate: %v", err)
		}
		insert := func(tx *database.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO staff (id, email, role, created_at) VALUES ($1, $2, $3, $4)`,
				"s1", "a@example.com", "admin", tx.Now)
			return err
		}
		if err := db.InTx(ctx, insert); err != nil {
			t.Fatal(err)
		}
		err := db.InTx(ctx, insert)
		if handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("duplicate insert: got %v, want conflict", err)
		}
		err = db.InTx(ctx, func(tx *database.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, staff_id, token_hash, created_at) VALUES ('t1', 'nobody', 'h', $1)`, tx.Now)
			return err
		})
		if handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("foreign key: got %v, want invalid", err)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("staff rows = %d, %v; want 1", n, err)
		}
	})
}

func TestInTxRollsBackOnError(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, email, role, created_at) VALUES ('s1', 'x@example.com', 'agent', $1)`, tx.Now); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("got %v, want boom", err)
		}
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff`).Scan(&n)
		if n != 0 {
			t.Fatalf("rolled-back row is visible: %d rows", n)
		}
	})
}
