package lifecycle_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii/masterkey"
)

// FuzzRestoreBackup feeds restore arbitrary files (seeded with a real
// backup): it must refuse them with a clear error and leave nothing, or
// restore a file whose checksum matched.
func FuzzRestoreBackup(f *testing.F) {
	master, _ := masterkey.Parse(masterkey.Generate())
	dir := f.TempDir()
	db, vault := openDataDirTB(f, dir, master)
	var good bytes.Buffer
	if _, err := lifecycle.WriteBackup(f.Context(), db, vault, dir, lifecycle.BackupKeys, lifecycle.MasterRecipient(master), &good); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte("age-encryption.org/v1\n-> scrypt AAAA 12\n"))
	f.Add([]byte{})
	ids := lifecycle.MasterIdentities(master)
	f.Fuzz(func(t *testing.T, file []byte) {
		out := t.TempDir()
		m, err := lifecycle.RestoreBackup(bytes.NewReader(file), ids, out)
		entries, _ := os.ReadDir(out)
		if err != nil {
			if code := handover.ErrorCode(err); code == handover.EINTERNAL {
				t.Fatalf("unclear error: %v", err)
			}
			if len(entries) != 0 {
				t.Fatalf("a refused restore left %d files", len(entries))
			}
			return
		}
		if len(entries) != 1 || entries[0].Name() != m.File {
			t.Fatalf("restored %v", entries)
		}
	})
}
