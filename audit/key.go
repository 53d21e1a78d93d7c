package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
)

// KeyPurpose names the audit key among the keys derived from the
// blind-index key (pii.Index.DeriveKey).
const KeyPurpose = "audit-chain/1"

// UseKey gives db the key the chain is MACed under, and keys a chain that
// has no entry yet. A chain with entries made before keyed chains existed
// stays hashed with plain SHA-256 until Rekey (handover audit rekey):
// keying it silently at start-up would also bless a chain someone had
// rewritten and marked unkeyed.
func UseKey(ctx context.Context, db *database.DB, key []byte) error {
	db.AuditKey = key
	err := db.InTx(ctx, func(tx *database.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE audit_head SET key_id = $1 WHERE id = 1 AND key_id = '' AND seq = 0`, KeyID(key))
		return err
	})
	if err != nil {
		return fmt.Errorf("audit key: %w", err)
	}
	return nil
}

// KeyID names a chain key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("handover-audit-key-id:"), key...))
	return hex.EncodeToString(sum[:4])
}

// chainKey is the key for a chain whose head names keyID: nil for an
// unkeyed chain, an error when the process lacks the chain's key.
func chainKey(keyID string, key []byte) ([]byte, error) {
	switch {
	case keyID == "":
		return nil, nil
	case key == nil:
		return nil, fmt.Errorf("audit: the chain is keyed (%s) but this process holds no audit key", keyID)
	case KeyID(key) != keyID:
		return nil, fmt.Errorf("audit: the chain is keyed under %s, this process holds %s (another master key or database?)", keyID, KeyID(key))
	}
	return key, nil
}

// Rekey moves an unkeyed chain (plain SHA-256, before keyed chains) under
// db's key: it verifies the whole chain as it is, refuses if it is broken,
// then recomputes every link as an HMAC and records an audit.rekey entry
// with the old head, all in one transaction. Concurrent appends wait.
func Rekey(ctx context.Context, db *database.DB) (Report, error) {
	if db.AuditKey == nil {
		return Report{}, fmt.Errorf("audit rekey: no audit key")
	}
	var r Report
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var head Report
		var keyID string
		if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash, key_id`).Scan(&head.Seq, &head.Head, &keyID); err != nil {
			return err
		}
		if keyID != "" {
			return handover.Errorf(handover.ECONFLICT, "The audit chain is already keyed (%s).", keyID)
		}
		var err error
		if r, err = walk(ctx, tx, head, nil, db.AuditKey); err != nil {
			return err
		}
		if !r.OK() {
			return handover.Errorf(handover.ECONFLICT, "The audit chain is broken at entry %d (%s); it was not rekeyed.", r.BrokenSeq, r.Reason)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET key_id = $1, hash = $2 WHERE id = 1`, KeyID(db.AuditKey), r.Head); err != nil {
			return err
		}
		return Record(ctx, tx, Entry{Actor: "system", Action: "audit.rekey", ObjectType: "audit_log",
			Detail: fmt.Sprintf("entries=%d unkeyed_head=%s key=%s", r.Checked, head.Head, KeyID(db.AuditKey))})
	})
	return r, err
}
