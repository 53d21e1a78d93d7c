package importer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestImportTimeZone imports a 时区 column: IANA names are stored, a bad
// one rejects its row with a reason, and a later import without a zone for
// a customer keeps the stored one.
func TestImportTimeZone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		imp, err := newImporter(t, s).Run(ctx, writeFile(t, "zones.csv", csvText(
			"姓名,手机,时区",
			"张三,13812345678,Asia/Shanghai",
			"Hans,13912345678, Europe/Berlin ",
			"李四,13712345678,",
			"王五,13612345678,Mars/Olympus",
		)), nil, "cli", nil)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Created != 3 || imp.Rejected != 1 {
			t.Fatalf("import = %+v", imp)
		}
		got, err := newImporter(t, s).FindImportByID(ctx, imp.ID)
		if err != nil || len(got.Errors) != 1 || got.Errors[0].Row != 5 || got.Errors[0].Field != customers.FieldTimeZone ||
			!strings.Contains(got.Errors[0].Reason, "IANA") {
			t.Fatalf("errors = %+v, %v", got.Errors, err)
		}
		zones := map[string]string{}
		for _, c := range allCustomers(t, s, customers.Filter{}) {
			zones[c.Name] = c.TimeZone
		}
		if zones["张三"] != "Asia/Shanghai" || zones["Hans"] != "Europe/Berlin" || zones["李四"] != "" || len(zones) != 3 {
			t.Fatalf("zones = %v", zones)
		}
		// An update by phone: a zone given replaces, none keeps.
		if _, err := newImporter(t, s).Run(ctx, writeFile(t, "again.csv", csvText(
			"手机,tz",
			"13812345678,America/New_York",
			"13912345678,",
		)), nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range allCustomers(t, s, customers.Filter{}) {
			zones[c.Name] = c.TimeZone
		}
		if zones["张三"] != "America/New_York" || zones["Hans"] != "Europe/Berlin" {
			t.Fatalf("zones after update = %v", zones)
		}
	})
}
