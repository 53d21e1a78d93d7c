// Package customerstest gives the tests of customers and of the packages
// built on it (importer, rights) a store on their own database and a way
// to import files into it.
package customerstest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii/piitest"
)

// NewStore opens a vault with a fresh master key on db.
func NewStore(t testing.TB, db *database.DB) *customers.Store {
	t.Helper()
	return customers.NewStore(db, piitest.Vault(t, db))
}

// NewImporter returns an importer into s that spools under a temp dir and
// is waited for at cleanup.
func NewImporter(t testing.TB, s *customers.Store) *importer.Importer {
	t.Helper()
	im := importer.New(s, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	return im
}

// WriteFile writes content to name in a temp dir and returns its path.
func WriteFile(t testing.TB, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// CSV joins lines with CRLF, as Excel writes CSV.
func CSV(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

// SampleCSV is three customers as an import file brings them.
var SampleCSV = CSV(
	"客户编号,客户名称,手机号码,电子邮箱,公司,地址,省份,标签",
	"C001,张三,138 1234 5678,Zhang@Example.com,上海张氏贸易,上海市浦东新区世纪大道100号,上海,vip，批发",
	"C002,李四,+86 139-1234-5678,,,,浙江,",
	"C003,王五,,wang@example.com,,,,老客户、华东",
)

// All pages through every customer f selects.
func All(t testing.TB, s *customers.Store, f customers.Filter) []*customers.Customer {
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

// CountRows counts the rows of table.
func CountRows(t testing.TB, db *database.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
