package customers_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestNormalizeTimeZone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Asia/Shanghai", "Asia/Shanghai"},
		{" Europe/Berlin ", "Europe/Berlin"},
		{"UTC", "UTC"},
		{"", ""},
	} {
		if got, err := customers.NormalizeTimeZone(tc.in); err != nil || got != tc.want {
			t.Errorf("NormalizeTimeZone(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"Mars/Olympus", "Local", "北京时间", "asia/shanghai", "../etc/passwd", "+08:00"} {
		if _, err := customers.NormalizeTimeZone(in); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("NormalizeTimeZone(%q) = %v; want EINVALID", in, err)
		}
	}
}

func TestUpdateCustomerTimeZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "one.csv", csvText("姓名,手机", "张三,13812345678")), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		id := allCustomers(t, s, customers.Filter{})[0].ID
		zone := "Europe/Berlin"
		c, err := s.UpdateCustomer(ctx, id, customers.CustomerUpdate{TimeZone: &zone}, "staff:test")
		if err != nil || c.TimeZone != zone || c.Name != "张三" {
			t.Fatalf("updated %+v, %v", c, err)
		}
		if entries, _ := audit.Find(ctx, db, audit.Filter{Action: "customer.update", ObjectID: id}); len(entries) != 1 ||
			!strings.Contains(entries[0].Detail, zone) {
			t.Fatalf("audit = %+v", entries)
		}
		bad := "Berlin"
		if _, err := s.UpdateCustomer(ctx, id, customers.CustomerUpdate{TimeZone: &bad}, "staff:test"); handover.ErrorCode(err) != handover.EINVALID ||
			!strings.Contains(handover.ErrorMessage(err), "IANA") {
			t.Fatalf("bad zone: %v", err)
		}
		if _, err := s.UpdateCustomer(ctx, id, customers.CustomerUpdate{}, "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("empty update: %v", err)
		}
		if _, err := s.UpdateCustomer(ctx, "nobody", customers.CustomerUpdate{TimeZone: &zone}, "staff:test"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("unknown customer: %v", err)
		}
		unknown := ""
		if c, err := s.UpdateCustomer(ctx, id, customers.CustomerUpdate{TimeZone: &unknown}, "staff:test"); err != nil || c.TimeZone != "" {
			t.Fatalf("cleared %+v, %v", c, err)
		}
	})
}
