package lifecycle

import (
	"archive/tar"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// BackupFormat names the backup layout in its manifest.
const BackupFormat = "handover-backup/1"

// What a backup holds: the database without any data key, or the key
// store alone. They are separate files on purpose: data backups may be
// kept for years, while key-store backups are kept only as long as the
// shortest destruction deadline, so a destroyed customer's key is gone
// from every copy once the last key-store backup older than the
// destruction expires.
const (
	BackupData = "data" // handover.db
	BackupKeys = "keys" // keys.db
)

// BackupManifest is a backup's first file, backup.json.
type BackupManifest struct {
	Format    string    `json:"format"`
	Kind      string    `json:"kind"`
	File      string    `json:"file"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at"`
}

// MasterRecipient is the backup recipient derived from a master key: an
// age scrypt recipient whose passphrase is an HMAC of the master key, so
// that whoever holds the master key can restore and nobody else can. The
// passphrase has 256 bits, so scrypt's cost is kept low.
func MasterRecipient(master []byte) age.Recipient {
	r, _ := age.NewScryptRecipient(backupPassphrase(master))
	r.SetWorkFactor(12)
	return r
}

// MasterIdentities are the identities that open backups made with
// MasterRecipient under any of the given master keys (current and previous).
func MasterIdentities(masters ...[]byte) []age.Identity {
	var ids []age.Identity
	for _, m := range masters {
		id, _ := age.NewScryptIdentity(backupPassphrase(m))
		ids = append(ids, id)
	}
	return ids
}

func backupPassphrase(master []byte) string {
	mac := hmac.New(sha256.New, master)
	mac.Write([]byte("handover-backup/1"))
	return base64.RawStdEncoding.EncodeToString(mac.Sum(nil))
}

// WriteBackup writes an encrypted, checksummed backup of kind (BackupData
// or BackupKeys) of the SQLite database whose files are in dataDir. The
// copy is SQLite's VACUUM INTO, consistent while the server keeps running;
// the data copy is taken from the main schema only, so it never holds
// customer_keys, and is scrubbed of what could identify a customer
// without their key (scrubCopy).
func WriteBackup(ctx context.Context, db *database.DB, vault *pii.Vault, dataDir, kind string, to age.Recipient, w io.Writer) (*BackupManifest, error) {
	if db.Dialect != database.SQLite {
		return nil, handover.Errorf(handover.EINVALID, "handover backup copies the embedded SQLite database; with PostgreSQL use pg_dump as deploy/README.md describes.")
	}
	schema, file, err := backupKind(kind)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dataDir, ".backup-*.db")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tmp.Close()
	os.Remove(tmp.Name()) // VACUUM INTO wants a file that does not exist
	defer os.Remove(tmp.Name())
	// A read, however long: it must not hold the writers' place (database.DB.ExecContext).
	if _, err := db.DB.ExecContext(ctx, `VACUUM `+schema+` INTO '`+strings.ReplaceAll(tmp.Name(), "'", "''")+`'`); err != nil {
		return nil, fmt.Errorf("backup: copy database: %w", err)
	}
	if kind == BackupData {
		if err := scrubCopy(ctx, tmp.Name(), db, vault); err != nil {
			return nil, err
		}
	}
	f, err := os.Open(tmp.Name())
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	m := &BackupManifest{Format: BackupFormat, Kind: kind, File: file, Bytes: size, SHA256: hex.EncodeToString(h.Sum(nil)), CreatedAt: db.Now()}
	enc, err := age.Encrypt(w, to)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(enc)
	body, _ := json.MarshalIndent(m, "", "  ")
	if err := writeFile(tw, "backup.json", m.CreatedAt, body); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: file, Mode: 0o600, Size: size, ModTime: m.CreatedAt, Typeflag: tar.TypeReg}); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := io.Copy(tw, f); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func backupKind(kind string) (schema, file string, err error) {
	switch kind {
	case BackupData:
		return "main", "handover.db", nil
	case BackupKeys:
		return "keys", database.KeyStoreFile, nil
	}
	return "", "", handover.Errorf(handover.EINVALID, "A backup is of data or keys.")
}

// RestoreBackup decrypts a backup with one of identities and writes its
// database file into dataDir, which must not hold that file already. The
// file's SHA-256 is checked against the manifest before it is put in
// place; on any error nothing is left in dataDir.
func RestoreBackup(r io.Reader, identities []age.Identity, dataDir string) (*BackupManifest, error) {
	dec, err := age.Decrypt(r, identities...)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, handover.Errorf(handover.EINVALID, "This backup is not encrypted to the configured key (the master key it was made under, or the --identity given).")
	} else if err != nil {
		return nil, handover.Errorf(handover.EINVALID, "This is not a readable Handover backup (%v).", err)
	}
	tr := tar.NewReader(dec)
	var m BackupManifest
	if h, err := tr.Next(); err != nil || h.Name != "backup.json" || h.Size > 1<<20 {
		return nil, corrupt("no manifest")
	}
	if err := json.NewDecoder(tr).Decode(&m); err != nil || m.Format != BackupFormat {
		return nil, corrupt("the manifest is unreadable")
	}
	if _, file, err := backupKind(m.Kind); err != nil || file != m.File {
		return nil, corrupt("the manifest names an unknown file")
	}
	h, err := tr.Next()
	if err != nil || h.Name != m.File {
		return nil, corrupt("the database file is missing")
	}
	dst := filepath.Join(dataDir, m.File)
	if _, err := os.Stat(dst); err == nil {
		return nil, handover.Errorf(handover.ECONFLICT, "%s already exists: restore into an empty data directory.", dst)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dataDir, ".restore-*.db")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	sum := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, sum), tr)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, corrupt(fmt.Sprintf("reading the database file failed (%v)", err))
	}
	if n != m.Bytes || hex.EncodeToString(sum.Sum(nil)) != m.SHA256 {
		return nil, corrupt("the database file's SHA-256 does not match the manifest")
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return nil, err
	}
	return &m, nil
}

func corrupt(why string) error {
	return handover.Errorf(handover.EINVALID, "The backup is damaged: %s. Nothing was restored.", why)
}
