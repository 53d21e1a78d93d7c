package lifecycle

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/handoverhq/handover/database"
)

// Check is one statement of the destruction report about the key store,
// and whether it was verified.
type Check struct {
	What string
	OK   bool
}

// checkSQLiteKeyStore verifies what SQLite's key store promises: deleted
// rows overwritten (secure_delete), the write-ahead log emptied, and each
// sampled customer's former key found in neither file.
func (d *Destroyer) checkSQLiteKeyStore(ctx context.Context, sample []*sampled) ([]Check, error) {
	var secure int
	if err := d.db.QueryRowContext(ctx, `PRAGMA keys.secure_delete`).Scan(&secure); err != nil {
		return nil, fmt.Errorf("destruction verify: %w", err)
	}
	checks := []Check{{What: "secure_delete is on for keys.db: a deleted key is overwritten in place", OK: secure == 1}}
	if d.dataDir == "" {
		return append(checks, Check{What: "keys.db and keys.db-wal searched for the sample's former keys: not done (no data directory given)"}), nil
	}
	var files [][]byte
	for _, name := range []string{database.KeyStoreFile, database.KeyStoreFile + "-wal"} {
		b, err := os.ReadFile(filepath.Join(d.dataDir, name))
		if err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("destruction verify: %w", err)
		}
		files = append(files, b)
	}
	checks = append(checks, Check{What: fmt.Sprintf("keys.db-wal is empty after the checkpoint (%d bytes)", len(files[1])), OK: len(files[1]) == 0})
	found := 0
	for _, s := range sample {
		s.Scanned, s.NotInFiles = true, true
		for _, f := range files {
			if s.wrapped != "" && bytes.Contains(f, []byte(s.wrapped)) {
				s.NotInFiles = false
			}
		}
		if !s.NotInFiles {
			found++
		}
	}
	return append(checks, Check{What: fmt.Sprintf("keys.db and keys.db-wal searched byte by byte for the %d sampled customers' former keys: %d found", len(sample), found),
		OK: found == 0}), nil
}

// checkPostgresKeyStore verifies that customer_keys was put in a new file
// (a new file node) and that its heap, with its TOAST table, is 0 bytes:
// a dead row holding a deleted key takes space until a vacuum, so an
// empty file proves none is left in the table.
func (d *Destroyer) checkPostgresKeyStore(ctx context.Context, before int64) ([]Check, error) {
	var after, size int64
	err := d.db.QueryRowContext(ctx, `SELECT pg_relation_filenode(c.oid),
		pg_relation_size(c.oid) + COALESCE(pg_relation_size(NULLIF(c.reltoastrelid, 0)), 0)
		FROM pg_class c WHERE c.oid = 'customer_keys'::regclass`).Scan(&after, &size)
	if err != nil {
		return nil, fmt.Errorf("destruction verify: %w", err)
	}
	return []Check{
		{What: fmt.Sprintf("customer_keys put in a new file (file node %d → %d); PostgreSQL dropped the old one, with every dead row in it", before, after), OK: after != before},
		{What: fmt.Sprintf("customer_keys heap and TOAST now: %d bytes (no row, dead or alive, keeps a key)", size), OK: size == 0},
	}, nil
}
