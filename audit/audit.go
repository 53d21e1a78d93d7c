// Package audit keeps the append-only, hash-chained audit log. Every entry
// carries the hash of the one before it, so editing or deleting a row
// breaks the chain and Verify names the first broken link. Entries are
// written in the same transaction as the change they record.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	PrevHash   string
	Hash       string
}

// Record appends e to the chain inside tx, stamping it with tx.Now.
func Record(ctx context.Context, tx *database.Tx, e Entry) error {
	// The UPDATE takes the head row's lock, so concurrent appenders queue
	// and each sees the hash its predecessor wrote.
	var prevSeq int64
	if err := tx.QueryRowContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq - 1, hash`).Scan(&prevSeq, &e.PrevHash); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	e.Seq = prevSeq + 1
	e.At = tx.Now
	e.Hash = e.computeHash()
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor, action, object_type, object_id, detail, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Seq, e.At, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (e Entry) computeHash() string {
	h := sha256.New()
	for _, f := range []string{
		strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.Actor, e.Action,
		e.ObjectType, e.ObjectID, e.Detail, e.PrevHash,
	} {
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Report is the outcome of Verify.
type Report struct {
	Checked int64
	// BrokenSeq is the first entry whose link or content does not match,
	// 0 when the chain is whole.
	BrokenSeq int64
	Reason    string
	Head      string
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.BrokenSeq == 0 }

// Verify walks the whole chain in order and reports the first broken link:
// a changed entry, a deleted entry, or a head that does not match the last
// entry.
func Verify(ctx context.Context, db *database.DB) (Report, error) {
	rows, err := db.QueryContext(ctx, `SELECT seq, at, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	var r Report
	prev := Entry{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		r.Checked++
		switch {
		case e.Seq != prev.Seq+1:
			return r.broken(prev.Seq+1, "entry is missing"), nil
		case e.PrevHash != prev.Hash:
			return r.broken(e.Seq, "previous-hash link does not match the entry before it"), nil
		case e.computeHash() != e.Hash:
			return r.broken(e.Seq, "entry content does not match its hash (edited)"), nil
		}
		prev = e
	}
	if err := rows.Err(); err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	var headSeq int64
	if err := db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &r.Head); err != nil {
		return r, fmt.Errorf("audit verify: %w", err)
	}
	if headSeq != prev.Seq || r.Head != prev.Hash {
		return r.broken(prev.Seq+1, "entries after the last one were deleted, or the head was edited"), nil
	}
	return r, nil
}

func (r Report) broken(seq int64, reason string) Report {
	r.BrokenSeq, r.Reason = seq, reason
	return r
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
	rows, err := db.QueryContext(ctx, `SELECT seq, at, actor, action, object_type, object_id, detail, prev_hash, hash FROM audit_log WHERE `+
		strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY seq LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("audit find: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &e.Detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
