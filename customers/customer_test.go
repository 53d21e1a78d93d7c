package customers_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestNoPlaintextAtRest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "handover.db")
	db, err := database.OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := newStore(t, db)
	const phone, email, name = "13812345678", "secret.person@example.com", "诸葛秘密"
	file := writeFile(t, "p.csv", csvText("姓名,手机,邮箱", name+","+phone+","+email))
	if _, err := newImporter(t, s).Run(context.Background(), file, nil, "cli", nil); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(path + suffix)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		found += len(raw)
		for _, secret := range []string{phone, "+86" + phone, email, "secret.person", name} {
			if bytes.Contains(raw, []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", filepath.Base(path+suffix), secret)
			}
		}
	}
	if found == 0 {
		t.Fatal("no database bytes read")
	}
	// The customer is there, and opens.
	list, _, err := s.FindCustomers(context.Background(), customers.Filter{Email: strings.ToUpper(email[:1]) + email[1:]})
	if err != nil || len(list) != 1 || list[0].Phone != "+86"+phone || list[0].Name != name {
		t.Fatalf("FindCustomers = %+v, %v", list, err)
	}
}

func TestFindCustomers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		lines := []string{"name,phone,email,region,tags"}
		for i := 0; i < 25; i++ {
			region, tags := "华东", "vip"
			if i%2 == 1 {
				region, tags = "华南", "b2b,50%_off"
			}
			lines = append(lines, fmt.Sprintf("客户%02d,1390000%04d,c%d@example.com,%s,\"%s\"", i, i, i, region, tags))
		}
		imp, err := newImporter(t, s).Run(ctx, writeFile(t, "f.csv", csvText(lines...)), nil, "cli", nil)
		if err != nil || imp.Created != 25 {
			t.Fatalf("import = %+v, %v", imp, err)
		}
		var all []*customers.Customer
		f := customers.Filter{Limit: 10}
		pages := 0
		for {
			page, next, err := s.FindCustomers(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, page...)
			if next == "" {
				break
			}
			f.Cursor = next
		}
		if pages != 3 || len(all) != 25 {
			t.Fatalf("%d pages, %d customers", pages, len(all))
		}
		for i, c := range all {
			if c.Name != fmt.Sprintf("客户%02d", i) || (i > 0 && c.ID <= all[i-1].ID) {
				t.Fatalf("customer %d = %s (%s): not in id order", i, c.Name, c.ID)
			}
		}
		for _, c := range []struct {
			f    customers.Filter
			want int
		}{
			{customers.Filter{Region: "华南"}, 12},
			{customers.Filter{Tag: "vip"}, 13},
			{customers.Filter{Tag: "50%_off"}, 12},
			{customers.Filter{Tag: "%"}, 0},
			{customers.Filter{Phone: "139-0000-0007"}, 1},
			{customers.Filter{Email: "C7@EXAMPLE.com"}, 1}, // the blind index ignores case
			{customers.Filter{Email: "c7@EXAMPLE.com"}, 1},
			{customers.Filter{Status: "active", ImportID: imp.ID}, 25},
			{customers.Filter{Status: "opted_out"}, 0},
		} {
			if got := allCustomers(t, s, c.f); len(got) != c.want {
				t.Errorf("FindCustomers(%+v): %d customers, want %d", c.f, len(got), c.want)
			}
		}
		one, _, _ := s.FindCustomers(ctx, customers.Filter{Phone: "13900000007"})
		if one[0].Email != "c7@example.com" {
			t.Fatalf("phone filter found %+v", one[0])
		}
		for _, bad := range []customers.Filter{{Cursor: "nope"}, {Phone: "123"}, {Email: "x"}, {Status: "deleted"}} {
			if _, _, err := s.FindCustomers(ctx, bad); handover.ErrorCode(err) != handover.EINVALID {
				t.Errorf("FindCustomers(%+v) = %v, want invalid", bad, err)
			}
		}
		if _, err := s.FindCustomerByID(ctx, "01J0000000000000000000000A"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("missing customer: %v", err)
		}
		m := all[0].Masked()
		if m.Name != "客**" || m.Phone != "139****0000" || m.Email != "c***@example.com" || all[0].Name != "客户00" {
			t.Fatalf("masked = %+v", m)
		}
	})
}

func TestRevealCustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "a.csv", sampleCSV), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		c := allCustomers(t, s, customers.Filter{})[0]
		if _, err := s.RevealCustomer(ctx, c.ID, "staff:s1", "  "); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("blank reason: %v", err)
		}
		got, err := s.RevealCustomer(ctx, c.ID, "staff:s1", "customer called to correct address")
		if err != nil || got.Phone != "+8613812345678" {
			t.Fatalf("RevealCustomer = %+v, %v", got, err)
		}
		entries, err := audit.Find(ctx, db, audit.Filter{Action: "customer.reveal", ObjectID: c.ID})
		if err != nil || len(entries) != 1 || entries[0].Actor != "staff:s1" || !strings.Contains(entries[0].Detail, "correct address") {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
		if _, err := s.RevealCustomer(ctx, "01J0000000000000000000000A", "staff:s1", "x"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("reveal missing: %v", err)
		}
		if n, _ := audit.Find(ctx, db, audit.Filter{Action: "customer.reveal"}); len(n) != 1 {
			t.Fatalf("%d reveal entries, want 1 (failed reveals are not audited as reveals)", len(n))
		}
	})
}
