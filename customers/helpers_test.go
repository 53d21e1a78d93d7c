package customers_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii/piitest"
)

// newStore opens a vault with a fresh master key on db.
func newStore(t testing.TB, db *database.DB) *customers.Store {
	t.Helper()
	return customers.NewStore(db, piitest.Vault(t, db))
}

func newImporter(t testing.TB, s *customers.Store) *customers.Importer {
	t.Helper()
	im := customers.NewImporter(s, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	return im
}

// writeFile writes content to name in a temp dir and returns its path.
func writeFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// csvText joins lines with CRLF, as Excel writes CSV.
func csvText(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// allCustomers pages through every customer.
func allCustomers(t testing.TB, s *customers.Store, f customers.Filter) []*customers.Customer {
	t.Helper()
	var out []*customers.Customer
	for {
		page, next, err := s.FindCustomers(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		f.Cursor = next
	}
}

func countRows(t testing.TB, db *database.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
