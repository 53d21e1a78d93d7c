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

// A ".postgres.sql" migration runs on PostgreSQL and is recorded without
// running on SQLite: 0058 drops deliveries_customer on PostgreSQL only.
func TestPostgresOnlyMigration(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		var applied int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = '0058_send_path.postgres'`).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		if applied != 1 {
			t.Fatalf("0058 recorded %d times, want 1", applied)
		}
		var q string
		if db.Dialect == database.Postgres {
			q = `SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'deliveries_customer'`
		} else {
			q = `SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name = 'deliveries_customer'`
		}
		var n int
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[database.Dialect]int{database.Postgres: 0, database.SQLite: 1}[db.Dialect]; n != want {
			t.Fatalf("deliveries_customer indexes: %d, want %d on %v", n, want, db.Dialect)
		}
	})
}
