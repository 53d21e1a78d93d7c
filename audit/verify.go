package audit

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/database"
)

// Report is the outcome of Verify.
type Report struct {
	Checked int64
	// BrokenSeq is the first entry whose link or content does not match,
	// 0 when the chain is whole.
	BrokenSeq int64
	Reason    string
	// Seq and Head are the head verified up to: the last entry's number
	// and MAC.
	Seq  int64
	Head string
	// Keyed is false for a chain still hashed with plain SHA-256, which
	// anyone able to write to the database could rewrite and re-hash.
	Keyed bool
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.BrokenSeq == 0 }

// Verify walks the chain in order up to the head as it stands when Verify
// starts (entries appended meanwhile wait for the next run) and reports
// the first broken link: a changed entry, a deleted entry, a head that
// does not match the last entry, or a chain keyed under another key.
func Verify(ctx context.Context, db *database.DB) (Report, error) {
	var head Report
	var keyID string
	if err := db.QueryRowContext(ctx, `SELECT seq, hash, key_id FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Head, &keyID); err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	key, err := chainKey(keyID, db.AuditKey)
	if err != nil {
		return head.broken(1, err.Error()), nil
	}
	return walk(ctx, db, head, key, nil)
}

// walk checks the entries up to head.Seq under key (nil: plain SHA-256).
// With rekey set, it also rewrites each entry's links under rekey as it
// goes (q must then be a transaction).
func walk(ctx context.Context, q database.Querier, head Report, key, rekey []byte) (Report, error) {
	r := Report{Keyed: key != nil}
	var prev, prevNew Entry
	cursor := int64(0)
	for {
		batch, err := entriesAfter(ctx, q, cursor, head.Seq)
		if err != nil {
			return r, fmt.Errorf("audit verify: %w", err)
		}
		if len(batch) == 0 {
			break
		}
		for _, e := range batch {
			r.Checked++
			switch {
			case e.Seq != prev.Seq+1:
				return r.broken(prev.Seq+1, "entry is missing"), nil
			case e.PrevHash != prev.Hash:
				return r.broken(e.Seq, "previous-hash link does not match the entry before it"), nil
			case e.sum(key) != e.Hash:
				return r.broken(e.Seq, "entry content does not match its MAC (edited, or re-hashed without the key)"), nil
			}
			prev = e
			if rekey != nil {
				if prevNew, err = relink(ctx, q, e, prevNew, rekey); err != nil {
					return r, err
				}
			}
		}
		cursor = batch[len(batch)-1].Seq
	}
	if head.Seq != prev.Seq || head.Head != prev.Hash {
		return r.broken(prev.Seq+1, "entries after the last one were deleted, or the head was edited"), nil
	}
	r.Seq, r.Head = prev.Seq, prev.Hash
	if rekey != nil {
		r.Seq, r.Head, r.Keyed = prevNew.Seq, prevNew.Hash, true
	}
	return r, nil
}

// relink rewrites e's links under key, after prev (already relinked).
func relink(ctx context.Context, q database.Querier, e, prev Entry, key []byte) (Entry, error) {
	tx, ok := q.(*database.Tx)
	if !ok {
		return e, fmt.Errorf("audit rekey: not in a transaction")
	}
	e.PrevHash = prev.Hash
	e.Hash = e.sum(key)
	if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, e.PrevHash, e.Hash, e.Seq); err != nil {
		return e, fmt.Errorf("audit rekey: %w", err)
	}
	return e, nil
}

// entriesAfter reads the next page of the chain, at most up to upTo.
func entriesAfter(ctx context.Context, q database.Querier, after, upTo int64) ([]Entry, error) {
	return database.QueryAll(ctx, q, scanEntry, `SELECT `+entryColumns+` FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT 5000`, after, upTo)
}

func (r Report) broken(seq int64, reason string) Report {
	r.BrokenSeq, r.Reason = seq, reason
	return r
}
