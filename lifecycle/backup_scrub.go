package lifecycle

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// A data backup must not let anyone holding it (and the master key) find
// or recognise a customer whose data key is gone. So the copy carries no
// blind index (a phone's HMAC finds its customer with the master key
// alone) and no plain column that could single a customer out:
// external_ref, region and tags are sealed under the customer's own data
// key, in the table backup_sealed that exists only in backups. Restore
// rebuilds both from what it can still open (RebuildRestored); for a
// customer whose key was destroyed since, nothing comes back.

// backupSealedContext is the Seal context of a customer's backup_sealed row.
func backupSealedContext(id string) string { return id + "/backup" }

// plainFields are the customer columns a backup seals.
type plainFields struct {
	ExternalRef string `json:"external_ref,omitempty"`
	Region      string `json:"region,omitempty"`
	Tags        string `json:"tags,omitempty"`
}

// scrubCopy rewrites the data backup copy at path: it seals each
// customer's plain fields under their data key (read from the live key
// store through live), clears every blind index that names a customer,
// and vacuums so that no cleared value stays in a free page.
func scrubCopy(ctx context.Context, path string, live *database.DB, vault *pii.Vault) error {
	cp, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer cp.Close()
	cp.SetMaxOpenConns(1)
	for _, q := range []string{`PRAGMA secure_delete = ON`,
		`CREATE TABLE backup_sealed (customer_id TEXT PRIMARY KEY, sealed TEXT NOT NULL) WITHOUT ROWID`} {
		if _, err := cp.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
	}
	cursor := ""
	for {
		var ids []string
		fields := map[string]plainFields{}
		err := database.EachRow(ctx, cp, func(row database.Scanner) error {
			var id string
			var f plainFields
			if err := row.Scan(&id, &f.ExternalRef, &f.Region, &f.Tags); err != nil {
				return err
			}
			ids = append(ids, id)
			fields[id] = f
			return nil
		}, `SELECT id, external_ref, region, tags FROM customers WHERE id > ? ORDER BY id LIMIT 1000`, cursor)
		if err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		cursor = ids[len(ids)-1]
		keys, err := vault.CustomerKeys(ctx, live, ids)
		if err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
		tx, err := cp.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
		for _, id := range ids {
			// A customer without a key (erased) keeps nothing.
			if dk := keys[id]; dk != nil && fields[id] != (plainFields{}) {
				b, _ := json.Marshal(fields[id])
				if _, err := tx.ExecContext(ctx, `INSERT INTO backup_sealed (customer_id, sealed) VALUES (?, ?)`, id, dk.Seal(string(b), backupSealedContext(id))); err != nil {
					tx.Rollback()
					return fmt.Errorf("backup: scrub: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET external_ref = '', region = '', tags = '', phone_idx = NULL, email_idx = NULL, openid_idx = NULL
			WHERE id >= ? AND id <= ?`, ids[0], cursor); err != nil {
			tx.Rollback()
			return fmt.Errorf("backup: scrub: %w", err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
	}
	for _, q := range []string{
		// Sent messages are matched to replies by address: rebuilt from
		// their customer on restore.
		`UPDATE sent_messages SET to_idx = '' WHERE customer_id <> ''`,
		// A matched message's sender index is never read again.
		`UPDATE inbound_events SET from_idx = '' WHERE customer_id <> ''`,
		`VACUUM`,
	} {
		if _, err := cp.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("backup: scrub: %w", err)
		}
	}
	return nil
}

// Restored is what RebuildRestored did.
type Restored struct {
	// Opened customers got their fields and blind indexes back.
	Opened int
	// Unreadable customers have no data key (destroyed or erased after
	// the backup): they stay unidentifiable.
	Unreadable int
}

// RebuildRestored finishes restoring a data backup once the key store is
// in place: for each customer whose data key it holds, it opens their
// sealed plain fields and personal fields and puts back external_ref,
// region, tags and the blind indexes; then the sent messages' address
// indexes. A customer whose key is gone stays as the backup left them.
// It does nothing on a database that was not restored from a backup.
func RebuildRestored(ctx context.Context, db *database.DB, cs *customers.Store, vault *pii.Vault) (Restored, error) {
	var r Restored
	var n int
	if db.Dialect != database.SQLite {
		return r, nil // handover backup is SQLite's; pg_dump copies tables as they are
	}
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'backup_sealed'`).Scan(&n); err != nil || n == 0 {
		return r, err
	}
	cursor := ""
	for {
		var done int
		err := db.InTx(ctx, func(tx *database.Tx) error {
			type row struct{ id, enc, sealed string }
			batch, err := database.QueryAll(ctx, tx, func(sc database.Scanner) (row, error) {
				var x row
				err := sc.Scan(&x.id, &x.enc, &x.sealed)
				return x, err
			}, `SELECT c.id, c.pii_enc, COALESCE(b.sealed, '') FROM customers c LEFT JOIN backup_sealed b ON b.customer_id = c.id
				WHERE c.id > $1 ORDER BY c.id LIMIT 1000`, cursor)
			if err != nil || len(batch) == 0 {
				return err
			}
			done, cursor = len(batch), batch[len(batch)-1].id
			ids := make([]string, len(batch))
			for i, x := range batch {
				ids[i] = x.id
			}
			keys, err := vault.CustomerKeys(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, x := range batch {
				dk := keys[x.id]
				if dk == nil {
					r.Unreadable++
					continue
				}
				if x.sealed != "" {
					var f plainFields
					pt, err := dk.Open(x.sealed, backupSealedContext(x.id))
					if err != nil || json.Unmarshal([]byte(pt), &f) != nil {
						return fmt.Errorf("restore: customer %s: sealed fields do not open", x.id)
					}
					if _, err := tx.ExecContext(ctx, `UPDATE customers SET external_ref = $1, region = $2, tags = $3 WHERE id = $4`,
						f.ExternalRef, f.Region, f.Tags, x.id); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `DELETE FROM backup_sealed WHERE customer_id = $1`, x.id); err != nil {
						return err
					}
				}
				phone, email, openid, err := cs.AddressIndexes(dk, x.id, x.enc)
				if err != nil {
					return fmt.Errorf("restore: %w", err)
				}
				if _, err := tx.ExecContext(ctx, `UPDATE customers SET phone_idx = $1, email_idx = $2, openid_idx = $3 WHERE id = $4`,
					database.Nullable(phone), database.Nullable(email), database.Nullable(openid), x.id); err != nil {
					return err
				}
				r.Opened++
			}
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("restore: rebuild: %w", err)
		}
		if done == 0 {
			break
		}
	}
	_, err := db.ExecContext(ctx, `UPDATE sent_messages SET to_idx = COALESCE((SELECT CASE sent_messages.channel
		WHEN 'sms' THEN c.phone_idx WHEN 'email' THEN c.email_idx WHEN 'wechat' THEN c.openid_idx
		ELSE COALESCE(c.phone_idx, c.email_idx, c.openid_idx) END FROM customers c WHERE c.id = sent_messages.customer_id), '')
		WHERE to_idx = '' AND customer_id <> ''`)
	if err != nil {
		return r, fmt.Errorf("restore: rebuild: %w", err)
	}
	// What is left belongs to customers whose key is gone: sealed under
	// that key, it is kept, as unreadable as their other fields.
	if r.Unreadable == 0 {
		if _, err := db.ExecContext(ctx, `DROP TABLE backup_sealed`); err != nil {
			return r, fmt.Errorf("restore: rebuild: %w", err)
		}
	}
	return r, nil
}
