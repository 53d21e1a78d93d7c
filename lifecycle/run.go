package lifecycle

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// sampleSize is how many customers the report proves unreadable one by one.
const sampleSize = 20

// sampled is one customer of the verification sample, with their wrapped
// key as it was, to look for it afterwards.
type sampled struct {
	ID      string
	wrapped string
	// Checks after the destruction. NotInFiles means something only when
	// Scanned: the key store's files were searched (SQLite).
	RowGone, KeyGone, Scanned, NotInFiles bool
}

// RunDestruction destroys the seller's copy under an approved plan whose
// due date has come: in batches, each customer's data key is deleted (the
// crypto-shredding) with the customer's row and the messages recorded for
// them; then the result is verified and the report stored and audited. A
// run interrupted midway is resumed by running the plan again.
func (d *Destroyer) RunDestruction(ctx context.Context, planID, actor string) (*Report, error) {
	var p *Plan
	err := d.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if p, err = scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+` FROM destruction_plans WHERE id = $1`, planID)); err != nil {
			return err
		}
		switch p.Status {
		case PlanRequested:
			return handover.Errorf(handover.ECONFLICT, "This destruction needs an auditor's approval before it can run.")
		case PlanCompleted, PlanCancelled:
			return handover.Errorf(handover.ECONFLICT, "This destruction plan is %s.", p.Status)
		}
		if tx.Now.Before(p.DueAt) {
			return handover.Errorf(handover.ECONFLICT, "This destruction is not due until %s.", p.DueAt.Format(time.DateOnly))
		}
		if p.Status == PlanRunning {
			return nil
		}
		p.Status, p.StartedBy, p.StartedAt = PlanRunning, actor, &tx.Now
		if _, err := tx.ExecContext(ctx, `UPDATE destruction_plans SET status = 'running', started_by = $1, started_at = $2 WHERE id = $3`, actor, tx.Now, p.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "destruction.start", ObjectType: "destruction_plan", ObjectID: p.ID})
	})
	if err != nil {
		return nil, err
	}
	sample, err := d.takeSample(ctx)
	if err != nil {
		return nil, err
	}
	fileNode, err := d.keyStoreFileNode(ctx)
	if err != nil {
		return nil, err
	}
	for {
		n, err := d.destroyBatch(ctx, p, actor)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			break
		}
	}
	if err := d.compact(ctx); err != nil {
		return nil, err
	}
	r, err := d.verify(ctx, p, sample, fileNode)
	if err != nil {
		return nil, err
	}
	if err := d.complete(ctx, p, r, actor); err != nil {
		return nil, err
	}
	if !r.Verified {
		return r, handover.Errorf(handover.ECONFLICT, "The destruction ran but its verification failed; the report shows which check.")
	}
	return r, nil
}

// takeSample picks up to sampleSize customers spread evenly over the list.
func (d *Destroyer) takeSample(ctx context.Context) ([]*sampled, error) {
	var total int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&total); err != nil {
		return nil, fmt.Errorf("destruction sample: %w", err)
	}
	var out []*sampled
	step := max(1, total/sampleSize)
	for off := 0; off < total && len(out) < sampleSize; off += step {
		var s sampled
		err := d.db.QueryRowContext(ctx, `SELECT c.id, COALESCE(k.wrapped, '') FROM customers c LEFT JOIN customer_keys k ON k.customer_id = c.id
			ORDER BY c.id LIMIT 1 OFFSET `+fmt.Sprint(off)).Scan(&s.ID, &s.wrapped)
		if err != nil {
			return nil, fmt.Errorf("destruction sample: %w", err)
		}
		out = append(out, &s)
	}
	return out, nil
}

// destroyBatch destroys the first batch of remaining customers and
// returns how many it found (0: none left, leftovers destroyed).
func (d *Destroyer) destroyBatch(ctx context.Context, p *Plan, actor string) (int, error) {
	ids, err := d.db.QueryIDs(ctx, `SELECT id FROM customers ORDER BY id LIMIT `+fmt.Sprint(d.batch))
	if err != nil {
		return 0, fmt.Errorf("destruction: %w", err)
	}
	if len(ids) == 0 {
		return 0, d.destroyLeftovers(ctx)
	}
	// The batch is every customer id from first to last: a range on the
	// primary keys, where a list of 2,000 bound ids costs more to bind
	// than the deletes themselves.
	first, last := ids[0], ids[len(ids)-1]
	var destroyed int64
	err = d.db.InTx(ctx, func(tx *database.Tx) error {
		// The keys first: from this statement on the customers are
		// unreadable everywhere, backups included.
		if _, err := tx.ExecContext(ctx, `DELETE FROM customer_keys WHERE customer_id >= $1 AND customer_id <= $2`, first, last); err != nil {
			return err
		}
		// Counted from the rows deleted, so that a second run racing this
		// one (the hourly job and a manual run) counts no customer twice.
		res, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE id >= $1 AND id <= $2`, first, last)
		if err != nil {
			return err
		}
		if destroyed, err = res.RowsAffected(); err != nil || destroyed == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM channel_optouts WHERE customer_id >= $1 AND customer_id <= $2`, first, last); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE destruction_plans SET destroyed_count = destroyed_count + $1 WHERE id = $2`, destroyed, p.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "destruction.batch", ObjectType: "destruction_plan", ObjectID: p.ID,
			Detail: marshal(map[string]any{"customers": destroyed, "first": first, "last": last})})
	})
	if err != nil {
		return 0, fmt.Errorf("destruction: %w", err)
	}
	p.DestroyedCount += destroyed
	return len(ids), nil
}

// destroyLeftovers deletes, once every customer is gone, the messages
// recorded for customers who no longer exist (sealed under their
// customer's destroyed key, or a key of their own for unmatched ones) and
// any key without a customer. One pass each:
// these tables have no index on customer_id to serve a batch.
func (d *Destroyer) destroyLeftovers(ctx context.Context) error {
	return d.db.InTx(ctx, func(tx *database.Tx) error {
		for _, q := range []string{
			`DELETE FROM customer_keys WHERE customer_id NOT IN (SELECT id FROM customers)`,
			// Unmatched events too (customer_id ''): their senders are gone.
			`DELETE FROM inbound_events WHERE customer_id NOT IN (SELECT id FROM customers)`,
			`DELETE FROM devbox_messages WHERE customer_id NOT IN (SELECT id FROM customers)`,
			`DELETE FROM sent_messages WHERE customer_id NOT IN (SELECT id FROM customers)`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("destruction: %w", err)
			}
		}
		return nil
	})
}

// compact leaves no copy of a deleted key in the key store. On SQLite it
// truncates the write-ahead logs (the key store overwrites deleted rows
// itself: secure_delete). On PostgreSQL, where DELETE leaves dead rows in
// the heap until a vacuum reuses their space, it empties customer_keys
// with TRUNCATE, which puts the table in a new, empty file and drops the
// old one; should keys of customers added meanwhile remain, VACUUM FULL
// rewrites the table around them instead.
func (d *Destroyer) compact(ctx context.Context) error {
	if d.db.Dialect == database.SQLite {
		for _, q := range []string{`PRAGMA keys.wal_checkpoint(TRUNCATE)`, `PRAGMA main.wal_checkpoint(TRUNCATE)`} {
			if _, err := d.db.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("destruction: checkpoint: %w", err)
			}
		}
		return nil
	}
	var left int
	err := d.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `LOCK TABLE customer_keys IN ACCESS EXCLUSIVE MODE`); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customer_keys`).Scan(&left); err != nil || left > 0 {
			return err
		}
		_, err := tx.ExecContext(ctx, `TRUNCATE customer_keys`)
		return err
	})
	if err == nil && left > 0 {
		_, err = d.db.ExecContext(ctx, `VACUUM (FULL) customer_keys`)
	}
	if err != nil {
		return fmt.Errorf("destruction: empty the key store: %w", err)
	}
	return nil
}

// keyStoreFileNode is PostgreSQL's file node of customer_keys (0 on
// SQLite): a new one after the run proves the table was rewritten.
func (d *Destroyer) keyStoreFileNode(ctx context.Context) (int64, error) {
	if d.db.Dialect != database.Postgres {
		return 0, nil
	}
	var node int64
	if err := d.db.QueryRowContext(ctx, `SELECT pg_relation_filenode('customer_keys')`).Scan(&node); err != nil {
		return 0, fmt.Errorf("destruction: %w", err)
	}
	return node, nil
}

// verify checks the result: no customer and no key left, each sampled
// customer's row and key gone, what the key store's engine keeps of
// deleted rows (checkSQLiteKeyStore, checkPostgresKeyStore), and the
// audit chain whole.
func (d *Destroyer) verify(ctx context.Context, p *Plan, sample []*sampled, fileNode int64) (*Report, error) {
	r := &Report{Plan: *p, Engine: string(d.db.Dialect), Method: destructionMethod[d.db.Dialect], NotCovered: notCovered[d.db.Dialect], Sample: sample}
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&r.CustomersLeft); err != nil {
		return nil, err
	}
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customer_keys`).Scan(&r.KeysLeft); err != nil {
		return nil, err
	}
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM consent_events`).Scan(&r.ConsentEventsKept); err != nil {
		return nil, err
	}
	r.Verified = r.CustomersLeft == 0 && r.KeysLeft == 0
	for _, s := range sample {
		var rows, keys int
		d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE id = $1`, s.ID).Scan(&rows)
		d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customer_keys WHERE customer_id = $1`, s.ID).Scan(&keys)
		s.RowGone, s.KeyGone = rows == 0, keys == 0
		r.Verified = r.Verified && s.RowGone && s.KeyGone
	}
	var err error
	if d.db.Dialect == database.Postgres {
		r.KeyStore, err = d.checkPostgresKeyStore(ctx, fileNode)
	} else {
		r.KeyStore, err = d.checkSQLiteKeyStore(ctx, sample)
	}
	if err != nil {
		return nil, err
	}
	for _, c := range r.KeyStore {
		r.Verified = r.Verified && c.OK
	}
	chain, err := audit.Verify(ctx, d.db)
	if err != nil {
		return nil, err
	}
	r.AuditOK, r.AuditHead = chain.OK(), chain.Head
	r.Verified = r.Verified && r.AuditOK
	return r, nil
}

// complete stores the report and audits it.
func (d *Destroyer) complete(ctx context.Context, p *Plan, r *Report, actor string) error {
	return d.db.InTx(ctx, func(tx *database.Tx) error {
		r.Plan.Status, r.Plan.CompletedAt, r.GeneratedAt = PlanCompleted, &tx.Now, tx.Now
		html, err := r.HTML()
		if err != nil {
			return err
		}
		sum := sha256.Sum256(html)
		r.Plan.ReportSHA256 = hex.EncodeToString(sum[:])
		res, err := tx.ExecContext(ctx, `UPDATE destruction_plans SET status = 'completed', completed_at = $1, report_html = $2, report_sha256 = $3
			WHERE id = $4 AND status = 'running'`, tx.Now, string(html), r.Plan.ReportSHA256, p.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ECONFLICT, "Another run completed this destruction first.")
		}
		if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "destruction.complete", ObjectType: "destruction_plan", ObjectID: p.ID,
			Detail: marshal(map[string]any{"customers": p.DestroyedCount, "verified": r.Verified, "report_sha256": r.Plan.ReportSHA256})}); err != nil {
			return err
		}
		return nil
	})
}

// Report returns a completed plan's stored destruction report (HTML).
func (d *Destroyer) Report(ctx context.Context, planID string) ([]byte, error) {
	var html string
	err := d.db.QueryRowContext(ctx, `SELECT report_html FROM destruction_plans WHERE id = $1`, planID).Scan(&html)
	if err != nil {
		return nil, handover.Errorf(handover.ENOTFOUND, "Destruction plan not found.")
	}
	if html == "" {
		return nil, handover.Errorf(handover.ENOTFOUND, "This destruction has no report yet.")
	}
	return []byte(html), nil
}
