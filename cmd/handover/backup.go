package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/lifecycle"
)

func runBackup(ctx context.Context, m *Main, args []string) error {
	fs := newFlags(m, "backup", "backup --out FILE [--keys]")
	out := fs.String("out", "", "the encrypted backup file to write (required)")
	keys := fs.Bool("keys", false, "back up the key store (customers' data keys) instead of the data; keep these only as long as the shortest destruction deadline")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		fs.Usage()
		return errUsage
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	to, err := m.backupRecipient()
	if err != nil {
		return err
	}
	kind := lifecycle.BackupData
	if *keys {
		kind = lifecycle.BackupKeys
	}
	return writeAtomically(*out, func(f *os.File) error {
		man, err := lifecycle.WriteBackup(ctx, m.DB, m.Vault, m.Config.DataDir, kind, to, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "backup of %s: %d bytes, sha256 %s → %s\n", man.File, man.Bytes, man.SHA256, *out)
		return nil
	})
}

// backupRecipient is HANDOVER_BACKUP_RECIPIENT, or the key derived from
// the master key.
func (m *Main) backupRecipient() (age.Recipient, error) {
	if m.Config.BackupRecipient != "" {
		return age.ParseX25519Recipient(m.Config.BackupRecipient)
	}
	current, _, _, err := m.Config.MasterKeys()
	if err != nil {
		return nil, err
	}
	return lifecycle.MasterRecipient(current), nil
}

func runRestore(ctx context.Context, m *Main, args []string) error {
	fs := newFlags(m, "restore", "restore --in FILE [--identity AGE_IDENTITY_FILE] | restore --finish")
	in := fs.String("in", "", "the backup file (required); run once for the data backup and once for the key-store backup")
	finish := fs.Bool("finish", false, "only rebuild customers' lookups and fields, after copying keys.db in by hand")
	identity := fs.String("identity", "", "age identity file, for backups made to HANDOVER_BACKUP_RECIPIENT")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *in == "" && !*finish {
		fs.Usage()
		return errUsage
	}
	if err := m.loadConfig(); err != nil {
		return err
	}
	if !m.Config.Embedded() {
		return handover.Errorf(handover.EINVALID, "handover restore fills an embedded data directory; with PostgreSQL use pg_restore as deploy/README.md describes.")
	}
	if *finish {
		return m.finishRestore(ctx)
	}
	ids, err := m.restoreIdentities(*identity)
	if err != nil {
		return err
	}
	f, err := os.Open(*in)
	if err != nil {
		return handover.Errorf(handover.EINVALID, "Cannot open %s.", filepath.Base(*in))
	}
	defer f.Close()
	man, err := lifecycle.RestoreBackup(f, ids, m.Config.DataDir)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "restored %s (%d bytes, sha256 verified, backed up %s) into %s\n", man.File, man.Bytes, man.CreatedAt.Format("2006-01-02 15:04 UTC"), m.Config.DataDir)
	return m.finishRestore(ctx)
}

// finishRestore rebuilds, once both the data and the key store are in
// place, what a data backup does not carry: each customer's blind indexes
// and plain fields, from what their data key still opens.
func (m *Main) finishRestore(ctx context.Context) error {
	for _, name := range []string{"handover.db", database.KeyStoreFile} {
		if _, err := os.Stat(filepath.Join(m.Config.DataDir, name)); err != nil {
			fmt.Fprintf(m.Stdout, "Now restore the other backup (data or key store); customers' lookups and fields are rebuilt once both are in place (or copy %s in and run handover restore --finish).\n", name)
			return nil
		}
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	r, err := lifecycle.RebuildRestored(ctx, m.DB, m.Customers, m.Vault)
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "rebuilt %d customers' lookups and fields; %d have no data key (destroyed or erased after the backup) and stay unreadable\n", r.Opened, r.Unreadable)
	return nil
}

// restoreIdentities reads an age identity file, or derives the identities
// of the configured master keys. Restore must not generate a master key.
func (m *Main) restoreIdentities(path string) ([]age.Identity, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, handover.Errorf(handover.EINVALID, "Cannot open the identity file %s.", filepath.Base(path))
		}
		defer f.Close()
		return age.ParseIdentities(f)
	}
	if m.Config.MasterKey == "" {
		if _, err := os.Stat(filepath.Join(m.Config.DataDir, "master.key")); errors.Is(err, os.ErrNotExist) {
			return nil, handover.Errorf(handover.EINVALID, "Set HANDOVER_MASTER_KEY to the master key the backup was made under (or copy master.key into the data dir first).")
		}
	}
	current, previous, _, err := m.Config.MasterKeys()
	if err != nil {
		return nil, err
	}
	return lifecycle.MasterIdentities(append([][]byte{current}, previous...)...), nil
}
