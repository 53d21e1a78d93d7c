// Package audit keeps the append-only, hash-chained audit log. Every entry
// carries the MAC of the one before it, so editing or deleting a row
// breaks the chain and Verify names the first broken link. The MAC is
// HMAC-SHA256 under a key the process holds and the database does not
// (UseKey), so someone who can write to the database cannot edit an entry
// and re-hash the chain after it. Entries are written in the same
// transaction as the change they record.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/handoverhq/handover/database"
)

// Entry is one audit record. Detail holds ids and counts, never personal
// data.
type Entry struct {
	Seq        int64
	At         time.Time
	Actor      string // "staff:ID", "customer:ID", "system", "cli"
	Action     string // e.g. "customer.reveal", "import.create"
	ObjectType string
	ObjectID   string
	Detail     string
	// Origin says where an entry was made when not through the web or the
	// worker: "cli os_user=…" for a command run on the server. Set from
	// the context (WithOrigin) when empty.
	Origin   string
	PrevHash string
	Hash     string
}

// Record appends e to the chain inside tx, stamping it with tx.Now.
func Record(ctx context.Context, tx *database.Tx, e Entry) error {
	// The UPDATE takes the head row's lock, so concurrent appenders queue
	// and each sees the hash its predecessor wrote.
	var prevSeq int64
	var keyID string
	if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq - 1, hash, key_id`).Scan(&prevSeq, &e.PrevHash, &keyID); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	key, err := chainKey(keyID, tx.AuditKey())
	if err != nil {
		return err
	}
	if e.Origin == "" {
		e.Origin = OriginFrom(ctx)
	}
	e.Seq = prevSeq + 1
	e.At = tx.Now
	e.Hash = e.sum(key)
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, detail, origin, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.Seq, e.At, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Detail, e.Origin, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// sum is the entry's link: HMAC-SHA256 under key, or plain SHA-256 for an
// unkeyed chain (key nil). Origin counts only when set, so entries made
// before it existed keep their hashes.
func (e Entry) sum(key []byte) string {
	var h hash.Hash
	if key == nil {
		h = sha256.New()
	} else {
		h = hmac.New(sha256.New, key)
	}
	fields := []string{
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action,
		e.ObjectType, e.ObjectID, e.Detail, e.PrevHash,
	}
	if e.Origin != "" {
		fields = append(fields, "origin", e.Origin)
	}
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Filter selects entries for Find.
type Filter struct {
	Actor      string
	ObjectType string
	ObjectID   string
	Action     string
	AfterSeq   int64 // cursor: entries with a larger seq
	Limit      int
}

// Find lists entries matching f, oldest first.
func Find(ctx context.Context, db *database.DB, f Filter) ([]Entry, error) {
	where := []string{"seq > $1"}
	args := []any{f.AfterSeq}
	for col, v := range map[string]string{"actor": f.Actor, "object_type": f.ObjectType, "object_id": f.ObjectID, "action": f.Action} {
		if v != "" {
			args = append(args, v)
			where = append(where, fmt.Sprintf("%s = $%d", col, len(args)))
		}
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	out, err := database.QueryAll(ctx, db, scanEntry, `SELECT `+entryColumns+` FROM audit_log WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY seq LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("audit find: %w", err)
	}
	return out, nil
}

const entryColumns = `seq, at, actor, action, object_type, object_id, detail, origin, prev_hash, hash`

func scanEntry(row database.Scanner) (Entry, error) {
	var e Entry
	err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.Detail, &e.Origin, &e.PrevHash, &e.Hash)
	return e, err
}
