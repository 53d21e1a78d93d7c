package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"modernc.org/sqlite"
)

// KeyStoreFile is the SQLite key store's file name, beside the database
// file. It holds customer_keys, the per-customer data keys, and nothing
// else. It is attached to every connection as the schema "keys", so SQL
// names the table customer_keys on both engines, but it is a file of its
// own: a backup of handover.db never holds a data key, and destroying a
// customer's key (crypto-shredding) reaches every backup ever taken.
const KeyStoreFile = "keys.db"

// keyStoreConnector opens SQLite connections with the key store attached.
type keyStoreConnector struct {
	drv *sqlite.Driver
	dsn string
}

func newKeyStoreConnector(path, dsn string) *keyStoreConnector {
	keys := filepath.Join(filepath.Dir(path), KeyStoreFile)
	drv := &sqlite.Driver{}
	drv.RegisterConnectionHook(func(conn sqlite.ExecQuerierContext, _ string) error {
		ctx := context.Background()
		for _, stmt := range []string{
			`ATTACH DATABASE '` + strings.ReplaceAll(keys, "'", "''") + `' AS keys`,
			`PRAGMA keys.journal_mode = WAL`,
			`PRAGMA keys.synchronous = NORMAL`,
			// A deleted key is overwritten, not left in a free page.
			`PRAGMA keys.secure_delete = ON`,
		} {
			if _, err := conn.ExecContext(ctx, stmt, nil); err != nil {
				return fmt.Errorf("attach key store: %w", err)
			}
		}
		return nil
	})
	return &keyStoreConnector{drv: drv, dsn: dsn}
}

// Connect implements driver.Connector.
func (c *keyStoreConnector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver implements driver.Connector.
func (c *keyStoreConnector) Driver() driver.Driver { return c.drv }

// moveKeysToKeyStore runs after the migrations on SQLite: it creates the
// key store's table and moves into it the keys a database created before
// the key store kept in its own file (migration 0001's customer_keys).
// WAL commits are atomic per file, not across files, so the copy ignores
// keys already moved by an interrupted earlier run.
func moveKeysToKeyStore(ctx context.Context, conn *sql.Conn) error {
	stmts := []string{`CREATE TABLE IF NOT EXISTS keys.customer_keys (
		customer_id TEXT PRIMARY KEY,
		key_id      TEXT NOT NULL,
		wrapped     TEXT NOT NULL,
		created_at  TIMESTAMP NOT NULL
	) WITHOUT ROWID`}
	var inMain int
	if err := conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'customer_keys'`).Scan(&inMain); err != nil {
		return fmt.Errorf("key store: %w", err)
	}
	if inMain > 0 {
		// secure_delete zeroes the dropped table's pages, and the
		// checkpoint below empties the WAL, so no key stays in handover.db.
		if _, err := conn.ExecContext(ctx, `PRAGMA main.secure_delete = ON`); err != nil {
			return fmt.Errorf("key store: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA main.secure_delete = OFF`)
		stmts = append(stmts, `INSERT INTO keys.customer_keys SELECT customer_id, key_id, wrapped, created_at FROM main.customer_keys WHERE true
			ON CONFLICT (customer_id) DO NOTHING`, `DROP TABLE main.customer_keys`)
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("key store: %w", err)
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			tx.Rollback()
			return fmt.Errorf("key store: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("key store: %w", err)
	}
	if inMain > 0 {
		if _, err := conn.ExecContext(ctx, `PRAGMA main.wal_checkpoint(TRUNCATE)`); err != nil {
			return fmt.Errorf("key store: %w", err)
		}
	}
	return nil
}

// restrictKeyStore gives the key store file the database file's mode.
func restrictKeyStore(path string) error {
	keys := filepath.Join(filepath.Dir(path), KeyStoreFile)
	if err := os.Chmod(keys, 0o600); err != nil {
		return fmt.Errorf("restrict key store file: %w", err)
	}
	return nil
}
