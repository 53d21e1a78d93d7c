package lifecycle_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii/masterkey"
)

// TestOldBackupCannotIdentifyDestroyedCustomer reproduces the finding: a
// data backup taken before a customer's key was destroyed, restored with
// the master key, found that customer by phone (blind index) and showed
// their external_ref, region and tags in plain text. Now the backup holds
// neither, restore puts them back for everyone whose key it can open,
// and the destroyed customer stays unidentifiable.
func TestOldBackupCannotIdentifyDestroyedCustomer(t *testing.T) {
	ctx := context.Background()
	master, _ := masterkey.Parse(masterkey.Generate())
	live := t.TempDir()
	db, vault := openDataDir(t, live, master)
	w := seedWith(t, db, vault)
	if _, err := db.ExecContext(ctx, `UPDATE customers SET external_ref = 'CRM-' || id, region = 'region-' || id, tags = 'vip,tag-' || id`); err != nil {
		t.Fatal(err)
	}
	// An SMS sent to each of the first two, tied to replies by address.
	for i, phone := range phones[:2] {
		if _, err := db.ExecContext(ctx, `INSERT INTO sent_messages (delivery_id, channel, customer_id, to_idx, sender, sent_at) VALUES ($1, 'sms', $2, $3, 'sign', CURRENT_TIMESTAMP)`,
			fmt.Sprint("d", i), w.ids[phone], vault.Index.Phone("+86"+phone)); err != nil {
			t.Fatal(err)
		}
	}
	restored, destroyed := destroyKeyBetweenBackups(t, db, live, master, w)
	// What the backup holds, byte by byte: no blind index, no plain field.
	file, _ := os.ReadFile(filepath.Join(restored, "handover.db"))
	for _, needle := range []string{vault.Index.Phone("+86" + phones[0]), vault.Index.Email("c0@example.com"), "CRM-" + destroyed, "region-" + destroyed, "tag-" + destroyed} {
		if bytes.Contains(file, []byte(needle)) {
			t.Errorf("the data backup holds %q of the destroyed customer", needle)
		}
	}
	db2, vault2 := openDataDir(t, restored, master)
	cs := customers.NewStore(db2, vault2)
	r, err := lifecycle.RebuildRestored(ctx, db2, cs, vault2)
	if err != nil {
		t.Fatal(err)
	}
	if r.Opened != len(phones)-1 || r.Unreadable != 1 {
		t.Fatalf("rebuild = %+v", r)
	}
	for i, phone := range phones {
		list, _, err := cs.FindCustomers(ctx, customers.Filter{Phone: phone})
		if err != nil {
			t.Fatal(err)
		}
		id := w.ids[phone]
		if i == 0 {
			if len(list) != 0 {
				t.Error("the destroyed customer is found by phone in the restored backup")
			}
			c, _ := cs.FindCustomerByID(ctx, id)
			if c.ExternalRef != "" || c.Region != "" || len(c.Tags) != 0 {
				t.Errorf("the destroyed customer shows %q %q %v", c.ExternalRef, c.Region, c.Tags)
			}
			continue
		}
		if len(list) != 1 || list[0].ExternalRef != "CRM-"+id || list[0].Region != "region-"+id || len(list[0].Tags) != 2 {
			t.Errorf("customer %s after restore: %+v", id, list)
		}
	}
	var toIdx []string
	rows, _ := db2.QueryContext(ctx, `SELECT to_idx FROM sent_messages ORDER BY delivery_id`)
	for rows.Next() {
		var x string
		rows.Scan(&x)
		toIdx = append(toIdx, x)
	}
	rows.Close()
	if len(toIdx) != 2 || toIdx[0] != "" || toIdx[1] != vault.Index.Phone("+86"+phones[1]) {
		t.Errorf("sent messages' address indexes after restore: %q", toIdx)
	}
	// Running it again changes nothing.
	if r, err := lifecycle.RebuildRestored(ctx, db2, cs, vault2); err != nil || r.Opened != len(phones)-1 {
		t.Fatalf("second rebuild = %+v, %v", r, err)
	}
	if list, _, _ := cs.FindCustomers(ctx, customers.Filter{Region: "region-" + w.ids[phones[1]]}); len(list) != 1 {
		t.Errorf("region lost by a second rebuild: %d", len(list))
	}
}
