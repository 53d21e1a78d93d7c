package lifecycle_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
)

// openDataDir opens (migrating) the SQLite database in dir under master.
func openDataDir(t *testing.T, dir string, master []byte) (*database.DB, *pii.Vault) {
	t.Helper()
	return openDataDirTB(t, dir, master)
}

func openDataDirTB(t testing.TB, dir string, master []byte) (*database.DB, *pii.Vault) {
	t.Helper()
	ctx := context.Background()
	db, err := database.OpenSQLite(ctx, filepath.Join(dir, "handover.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	kr, _ := pii.NewKeyring(master)
	v, err := pii.OpenVault(ctx, db, kr)
	if err != nil {
		t.Fatal(err)
	}
	return db, v
}

func backup(t *testing.T, db *database.DB, dir, kind string, master []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	kr, _ := pii.NewKeyring(master)
	vault, err := pii.OpenVault(context.Background(), db, kr)
	if err != nil {
		t.Fatal(err)
	}
	m, err := lifecycle.WriteBackup(context.Background(), db, vault, dir, kind, lifecycle.MasterRecipient(master), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if m.Bytes == 0 || len(m.SHA256) != 64 {
		t.Fatalf("manifest %+v", m)
	}
	return buf.Bytes()
}

// restoreAll restores backups, in order, into a new data dir.
func restoreAll(t *testing.T, master []byte, backups ...[]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, b := range backups {
		if _, err := lifecycle.RestoreBackup(bytes.NewReader(b), lifecycle.MasterIdentities(master), dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// destroyKeyBetweenBackups takes a data backup, destroys the key of the
// customer with phones[0], takes a key-store backup and restores both into
// a new data dir, which it returns with that customer's id.
func destroyKeyBetweenBackups(t *testing.T, db *database.DB, live string, master []byte, w *world) (restored, destroyed string) {
	t.Helper()
	ctx := context.Background()
	dataBackup := backup(t, db, live, lifecycle.BackupData, master)
	destroyed = w.ids[phones[0]]
	if err := db.InTx(ctx, func(tx *database.Tx) error { return pii.DestroyCustomerKey(ctx, tx, destroyed) }); err != nil {
		t.Fatal(err)
	}
	keysBackup := backup(t, db, live, lifecycle.BackupKeys, master)
	return restoreAll(t, master, dataBackup, keysBackup), destroyed
}

// TestBackupRestoreAndCryptoShredding backs up, destroys one customer's
// key, and restores into an empty data dir: every other customer reads,
// the destroyed one does not, and the data backup taken before the
// destruction cannot bring the customer back because it holds no key.
func TestBackupRestoreAndCryptoShredding(t *testing.T) {
	ctx := context.Background()
	master, _ := masterkey.Parse(masterkey.Generate())
	live := t.TempDir()
	db, vault := openDataDir(t, live, master)
	w := seedWith(t, db, vault)
	restored, destroyed := destroyKeyBetweenBackups(t, db, live, master, w)
	db2, vault2 := openDataDir(t, restored, master)
	ids := make([]string, 0, len(w.ids))
	for _, id := range w.ids {
		ids = append(ids, id)
	}
	got, err := customers.NewStore(db2, vault2).FindCustomersByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for phone, id := range w.ids {
		c := got[id]
		switch {
		case c == nil:
			t.Errorf("customer %s missing after restore", id)
		case id == destroyed && c.Phone != "":
			t.Error("the destroyed customer is readable after restore")
		case id != destroyed && c.Phone != "+86"+phone:
			t.Errorf("customer %s unreadable after restore", id)
		}
	}

	// The data backup alone reads nobody: it never held a key.
	alone := restoreAll(t, master, backup(t, db, live, lifecycle.BackupData, master))
	db3, vault3 := openDataDir(t, alone, master)
	got, err = customers.NewStore(db3, vault3).FindCustomersByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range got {
		if c.Phone != "" || c.Name != "" {
			t.Fatalf("customer %s readable from a data backup without the key store", c.ID)
		}
	}
}

func TestRestoreRefusesBadBackups(t *testing.T) {
	master, _ := masterkey.Parse(masterkey.Generate())
	other, _ := masterkey.Parse(masterkey.Generate())
	live := t.TempDir()
	db, _ := openDataDir(t, live, master)
	good := backup(t, db, live, lifecycle.BackupData, master)

	damaged := bytes.Clone(good)
	damaged[len(damaged)/2] ^= 0xff
	for name, tc := range map[string]struct {
		file []byte
		key  []byte
		code string
	}{
		"wrong key": {good, other, handover.EINVALID},
		"damaged":   {damaged, master, handover.EINVALID},
		"truncated": {good[:len(good)-100], master, handover.EINVALID},
		"not age":   {[]byte("SQLite format 3\x00"), master, handover.EINVALID},
	} {
		dir := t.TempDir()
		_, err := lifecycle.RestoreBackup(bytes.NewReader(tc.file), lifecycle.MasterIdentities(tc.key), dir)
		if handover.ErrorCode(err) != tc.code {
			t.Errorf("%s: err = %v", name, err)
		}
		if matches, _ := filepath.Glob(filepath.Join(dir, "*")); len(matches) != 0 {
			t.Errorf("%s: left %v", name, matches)
		}
	}
	// Restoring over a database refuses.
	if _, err := lifecycle.RestoreBackup(bytes.NewReader(good), lifecycle.MasterIdentities(master), live); handover.ErrorCode(err) != handover.ECONFLICT {
		t.Errorf("restore over a live database: %v", err)
	}
}
