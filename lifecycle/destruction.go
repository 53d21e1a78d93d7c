package lifecycle

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

// PlanStatus is where a destruction plan stands.
type PlanStatus string

// Destruction plan statuses. The values are the ones stored and the API
// shows.
const (
	PlanRequested PlanStatus = "requested"
	PlanApproved  PlanStatus = "approved"
	PlanRunning   PlanStatus = "running"
	PlanCompleted PlanStatus = "completed"
	PlanCancelled PlanStatus = "cancelled"
)

// String returns the status as stored.
func (s PlanStatus) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s PlanStatus) Key() string { return "destruction.status_" + string(s) }

// destructionMethod is how the seller's copy is destroyed on each
// engine, as the report states it; keyStoreChecks then says what of it was
// verified.
var destructionMethod = map[database.Dialect]string{
	database.SQLite: "Crypto-shredding: each customer's AES-256 data key is deleted from the key store keys.db, " +
		"a file apart from the data (SQLite secure_delete overwrites a deleted row in place; the key store's WAL is then truncated), " +
		"which makes every copy of the customer's sealed fields unreadable, data backups included; " +
		"then the customer rows and the messages recorded for them are deleted. " +
		"The consent ledger (decision, purpose, notice hash, time) and the audit log are kept without personal data.",
	database.Postgres: "Crypto-shredding: each customer's AES-256 data key is deleted from the customer_keys table, " +
		"which is then emptied with TRUNCATE into a new file (VACUUM FULL should keys added meanwhile remain) so that no dead row keeps a deleted key in the table's heap, " +
		"which makes every copy of the customer's sealed fields unreadable once no copy of the key remains; " +
		"then the customer rows and the messages recorded for them are deleted. " +
		"The consent ledger (decision, purpose, notice hash, time) and the audit log are kept without personal data.",
}

// notCovered is what a run cannot reach on each engine, stated so that the
// report claims no more than was done.
var notCovered = map[database.Dialect]string{
	database.SQLite: "Key-store backups (handover backup --keys) taken before the run still hold these keys: delete them (deploy/README.md). " +
		"Data backups never hold keys. Blocks the file system or the disk kept elsewhere (snapshots, SSD wear levelling) are outside what Handover can check.",
	database.Postgres: "PostgreSQL's write-ahead log, WAL archives, base backups, replicas' lag and pg_dump dumps taken before the run still hold these keys " +
		"until they are recycled or deleted: expire them (deploy/README.md). The table's former file was unlinked by PostgreSQL; " +
		"its disk blocks, like snapshots, are outside what Handover can check.",
}

// Plan is a transfer's retention plan: destroy the seller's copy (every
// customer of this installation; one installation serves one customer
// list) RetentionDays after the effective date, once a second person
// approved.
type Plan struct {
	ID             string     `json:"id"`
	TransferID     string     `json:"transfer_id"`
	RetentionDays  int        `json:"retention_days"`
	DueAt          time.Time  `json:"due_at"`
	Status         PlanStatus `json:"status"`
	RequestedBy    string     `json:"requested_by"`
	RequestedAt    time.Time  `json:"requested_at"`
	ApprovedBy     string     `json:"approved_by,omitempty"`
	ApprovedAt     *time.Time `json:"approved_at,omitempty"`
	StartedBy      string     `json:"started_by,omitempty"`
	StartedAt      *time.Time `json:"started_at,omitempty"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`
	DestroyedCount int64      `json:"destroyed_count"`
	ReportSHA256   string     `json:"report_sha256,omitempty"`
}

// Destroyer plans, approves and runs destructions.
type Destroyer struct {
	db        *database.DB
	transfers *transfers.Store
	// dataDir is where the SQLite key store lives, for the report's scan
	// of its files; "" with PostgreSQL.
	dataDir string
	// batch is how many customers one transaction destroys.
	batch int
}

// NewDestroyer returns a Destroyer on db. dataDir is the embedded data
// directory ("" with PostgreSQL).
func NewDestroyer(db *database.DB, ts *transfers.Store, dataDir string) *Destroyer {
	return &Destroyer{db: db, transfers: ts, dataDir: dataDir, batch: 2000}
}

const planColumns = `id, transfer_id, retention_days, due_at, status, requested_by, requested_at, approved_by, approved_at,
	started_by, started_at, completed_at, destroyed_count, report_sha256`

func scanPlan(row database.Scanner) (*Plan, error) {
	var p Plan
	var approved, started, completed sql.NullTime
	err := row.Scan(&p.ID, &p.TransferID, &p.RetentionDays, &p.DueAt, &p.Status, &p.RequestedBy, &p.RequestedAt, &p.ApprovedBy, &approved,
		&p.StartedBy, &started, &completed, &p.DestroyedCount, &p.ReportSHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Destruction plan not found.")
	} else if err != nil {
		return nil, fmt.Errorf("destruction plan: %w", err)
	}
	p.DueAt, p.RequestedAt = p.DueAt.UTC(), p.RequestedAt.UTC()
	for _, t := range []struct {
		src sql.NullTime
		dst **time.Time
	}{{approved, &p.ApprovedAt}, {started, &p.StartedAt}, {completed, &p.CompletedAt}} {
		if t.src.Valid {
			v := t.src.Time.UTC()
			*t.dst = &v
		}
	}
	return &p, nil
}

// FindPlanByID returns a plan or ENOTFOUND.
func (d *Destroyer) FindPlanByID(ctx context.Context, id string) (*Plan, error) {
	return scanPlan(d.db.QueryRowContext(ctx, `SELECT `+planColumns+` FROM destruction_plans WHERE id = $1`, id))
}

// FindPlans lists a transfer's plans, newest first.
func (d *Destroyer) FindPlans(ctx context.Context, transferID string) ([]*Plan, error) {
	out, err := database.QueryAll(ctx, d.db, scanPlan, `SELECT `+planColumns+` FROM destruction_plans WHERE transfer_id = $1 ORDER BY requested_at DESC, id`, transferID)
	if err != nil {
		return nil, fmt.Errorf("destruction plans: %w", err)
	}
	return out, nil
}

// Remaining counts the customers a run has yet to destroy: with a plan's
// DestroyedCount, the progress of a running plan.
func (d *Destroyer) Remaining(ctx context.Context) (int64, error) {
	var n int64
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers`).Scan(&n); err != nil {
		return 0, fmt.Errorf("destruction progress: %w", err)
	}
	return n, nil
}

// RequestDestruction plans the destruction of the seller's copy days
// after the transfer's effective date (0: the transfer's retention_days).
// The requester needs the destruction.request permission; only one open
// plan per transfer.
func (d *Destroyer) RequestDestruction(ctx context.Context, transferID string, days int, by *staff.Member) (*Plan, error) {
	if by == nil || !by.Role.Can(staff.RequestDestruction) {
		return nil, handover.Errorf(handover.EFORBIDDEN, "Only an admin may request a destruction.")
	}
	t, err := d.transfers.FindTransferByID(ctx, transferID)
	if err != nil {
		return nil, err
	}
	if days == 0 {
		days = t.RetentionDays
	}
	if days < 0 || days > 3650 {
		return nil, handover.Errorf(handover.EINVALID, "Retention must be between 0 and 3650 days after the effective date.")
	}
	effective, _ := time.Parse(time.DateOnly, t.EffectiveDate)
	p := &Plan{ID: ulid.Make().String(), TransferID: t.ID, RetentionDays: days, DueAt: effective.AddDate(0, 0, days).UTC(),
		Status: PlanRequested, RequestedBy: by.Actor()}
	err = d.db.InTx(ctx, func(tx *database.Tx) error {
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM destruction_plans WHERE transfer_id = $1 AND status IN ('requested', 'approved', 'running')`, t.ID).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return handover.Errorf(handover.ECONFLICT, "This transfer already has an open destruction plan.")
		}
		p.RequestedAt = tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO destruction_plans (id, transfer_id, retention_days, due_at, status, requested_by, requested_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.ID, p.TransferID, p.RetentionDays, p.DueAt, p.Status, p.RequestedBy, p.RequestedAt); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: p.RequestedBy, Action: "destruction.request", ObjectType: "destruction_plan", ObjectID: p.ID,
			Detail: fmt.Sprintf("transfer=%s retention_days=%d due=%s", t.ID, days, p.DueAt.Format(time.DateOnly))})
	})
	return p, err
}

// ApproveDestruction is the second person's approval: an auditor who is
// not the requester.
func (d *Destroyer) ApproveDestruction(ctx context.Context, planID string, by *staff.Member) (*Plan, error) {
	if by == nil || !by.Role.Can(staff.ApproveDestruction) {
		return nil, handover.Errorf(handover.EFORBIDDEN, "Only an auditor may approve a destruction.")
	}
	err := d.db.InTx(ctx, func(tx *database.Tx) error {
		p, err := scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+` FROM destruction_plans WHERE id = $1`, planID))
		if err != nil {
			return err
		}
		if p.RequestedBy == by.Actor() {
			return handover.Errorf(handover.EFORBIDDEN, "The person who requested a destruction cannot also approve it.")
		}
		if p.Status != PlanRequested {
			return handover.Errorf(handover.ECONFLICT, "This plan is %s, not awaiting approval.", p.Status)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE destruction_plans SET status = 'approved', approved_by = $1, approved_at = $2 WHERE id = $3 AND status = 'requested'`,
			by.Actor(), tx.Now, p.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: by.Actor(), Action: "destruction.approve", ObjectType: "destruction_plan", ObjectID: p.ID,
			Detail: "requested_by=" + p.RequestedBy})
	})
	if err != nil {
		return nil, err
	}
	return d.FindPlanByID(ctx, planID)
}

// CancelDestruction withdraws a plan that has not started.
func (d *Destroyer) CancelDestruction(ctx context.Context, planID string, by *staff.Member) error {
	if by == nil || !(by.Role.Can(staff.RequestDestruction) || by.Role.Can(staff.ApproveDestruction)) {
		return handover.Errorf(handover.EFORBIDDEN, "Only an admin or an auditor may cancel a destruction.")
	}
	return d.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE destruction_plans SET status = 'cancelled' WHERE id = $1 AND status IN ('requested', 'approved')`, planID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if _, err := scanPlan(tx.QueryRowContext(ctx, `SELECT `+planColumns+` FROM destruction_plans WHERE id = $1`, planID)); err != nil {
				return err
			}
			return handover.Errorf(handover.ECONFLICT, "Only a plan that has not started can be cancelled.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: by.Actor(), Action: "destruction.cancel", ObjectType: "destruction_plan", ObjectID: planID})
	})
}

// DuePlans lists the approved plans whose time has come, for the
// scheduled job.
func (d *Destroyer) DuePlans(ctx context.Context) ([]string, error) {
	return d.db.QueryIDs(ctx, `SELECT id FROM destruction_plans WHERE status IN ('approved', 'running') AND due_at <= $1 ORDER BY due_at`, d.db.Now())
}

func marshal(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
