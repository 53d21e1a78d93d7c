package database_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/handoverhq/handover/database"
)

// TestKeyStoreIsItsOwnFile: customer_keys lives in keys.db, not in
// handover.db, and keys a database kept in handover.db (before the key
// store) move there on migrate.
func TestKeyStoreIsItsOwnFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := database.OpenSQLite(ctx, filepath.Join(dir, "handover.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// An older database: the keys table still in the main file.
	for _, q := range []string{
		`CREATE TABLE main.customer_keys (customer_id TEXT PRIMARY KEY, key_id TEXT NOT NULL, wrapped TEXT NOT NULL, created_at TIMESTAMP NOT NULL) WITHOUT ROWID`,
		`INSERT INTO main.customer_keys VALUES ('c1', 'k', 'wrapped-secret-1', CURRENT_TIMESTAMP)`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var inMain, inKeys int
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM main.sqlite_master WHERE name = 'customer_keys'`).Scan(&inMain)
	db.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys.customer_keys WHERE customer_id = 'c1'`).Scan(&inKeys)
	if inMain != 0 || inKeys != 1 {
		t.Fatalf("after migrate: %d tables in main, %d moved keys", inMain, inKeys)
	}
	// Unqualified SQL reaches the key store; every pooled connection has it.
	for range 6 {
		err := db.InTx(ctx, func(tx *database.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO customer_keys (customer_id, key_id, wrapped, created_at) VALUES ($1, 'k', 'w', $2)`, "c-"+tx.Now.String(), tx.Now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, database.KeyStoreFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key store file: %v %v", fi, err)
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM customer_keys WHERE customer_id = 'c1'`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `PRAGMA keys.wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"handover.db", "handover.db-wal", database.KeyStoreFile, database.KeyStoreFile + "-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, []byte("wrapped-secret-1")) {
			t.Errorf("%s still holds the deleted key", name)
		}
	}
}
