package customers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestFindCustomersByIDs loads more customers than one chunk holds, each
// decrypted and equal to FindCustomerByID's, and leaves unknown ids out.
func TestFindCustomersByIDs(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		lines := []string{"name,phone,email,region"}
		const n = 620
		for i := 0; i < n; i++ {
			lines = append(lines, fmt.Sprintf("客户%03d,1390000%04d,c%d@example.com,华东", i, i, i))
		}
		imp, err := newImporter(t, s).Run(ctx, writeFile(t, "f.csv", csvText(lines...)), nil, "cli", nil)
		if err != nil || imp.Created != n {
			t.Fatalf("import = %+v, %v", imp, err)
		}
		var ids []string
		for cursor := ""; ; {
			page, next, err := s.FindCustomers(ctx, customers.Filter{Cursor: cursor, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				ids = append(ids, c.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if len(ids) != n {
			t.Fatalf("%d ids, want %d", len(ids), n)
		}
		got, err := s.FindCustomersByIDs(ctx, append(ids, "01NOSUCHCUSTOMER0000000000"))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n {
			t.Fatalf("%d customers, want %d", len(got), n)
		}
		for _, id := range []string{ids[0], ids[499], ids[500], ids[n-1]} {
			one, err := s.FindCustomerByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			c := got[id]
			if c == nil || c.Email != one.Email || c.Phone != one.Phone || c.Name != one.Name || c.Status != one.Status || c.Email == "" {
				t.Fatalf("customer %s differs from FindCustomerByID", id)
			}
		}
		if empty, err := s.FindCustomersByIDs(ctx, nil); err != nil || len(empty) != 0 {
			t.Fatalf("no ids: %d, %v", len(empty), err)
		}
	})
}
