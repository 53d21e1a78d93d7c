// Package assessments keeps personal-information impact assessments (PIPL
// Art. 55-56): before customer data is exported to the buyer or a campaign
// asks for a new purpose, a record says why it is necessary, what could go
// wrong and what is done about it, and who approved it. Records are kept
// at least three years.
package assessments

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Activities an assessment can cover.
const (
	ActivityExport   = "export"   // the buyer's package
	ActivityCampaign = "campaign" // a campaign to a purpose of the transfer
)

// Retention is how long an approved assessment is kept (Art. 56: at
// least three years).
const Retention = 3 * 365 * 24 * time.Hour

// Assessment is one impact assessment.
type Assessment struct {
	ID          string     `json:"id"`
	TransferID  string     `json:"transfer_id"`
	Activity    string     `json:"activity"`
	Purpose     string     `json:"purpose"`
	Necessity   string     `json:"necessity"`
	Risks       string     `json:"risks"`
	Measures    string     `json:"measures"`
	Status      string     `json:"status"` // draft | approved | rejected
	CreatedBy   string     `json:"created_by"`
	CreatedAt   time.Time  `json:"created_at"`
	ApprovedBy  string     `json:"approved_by,omitempty"`
	ApprovedAt  *time.Time `json:"approved_at,omitempty"`
	RetainUntil *time.Time `json:"retain_until,omitempty"`
}

// Store reads and writes assessments.
type Store struct{ db *database.DB }

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

func (a *Assessment) validate() error {
	if a.Activity != ActivityExport && a.Activity != ActivityCampaign {
		return handover.Errorf(handover.EINVALID, "activity must be export or campaign.")
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"purpose", &a.Purpose}, {"necessity", &a.Necessity}, {"risks", &a.Risks}, {"measures", &a.Measures}} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			return handover.Errorf(handover.EINVALID, "An assessment needs its %s.", f.name)
		}
		if len(*f.v) > 20_000 {
			return handover.Errorf(handover.ETOOLARGE, "%s is too long (20 KB at most).", f.name)
		}
	}
	return nil
}

// Create stores a draft assessment for a purpose of the transfer.
func (s *Store) Create(ctx context.Context, a *Assessment, purposes []string, actor string) error {
	if err := a.validate(); err != nil {
		return err
	}
	if !slices.Contains(purposes, a.Purpose) {
		return handover.Errorf(handover.EINVALID, "Purpose %q is not one of the transfer's purposes.", a.Purpose)
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		a.ID, a.Status, a.CreatedBy, a.CreatedAt = ulid.Make().String(), "draft", actor, tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO assessments (id, transfer_id, activity, purpose, necessity, risks, measures, status, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', $8, $9)`, a.ID, a.TransferID, a.Activity, a.Purpose, a.Necessity, a.Risks, a.Measures, actor, tx.Now); err != nil {
			return fmt.Errorf("create assessment: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "assessment.create", ObjectType: "assessment", ObjectID: a.ID,
			Detail: "transfer=" + a.TransferID + " activity=" + a.Activity})
	})
}

// Decide approves or rejects a draft. The approver must not be its author.
func (s *Store) Decide(ctx context.Context, id string, approve bool, actor string) error {
	status := "rejected"
	if approve {
		status = "approved"
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		var author string
		err := tx.QueryRowContext(ctx, `SELECT created_by FROM assessments WHERE id = $1`, id).Scan(&author)
		if errors.Is(err, sql.ErrNoRows) {
			return handover.Errorf(handover.ENOTFOUND, "Assessment not found.")
		} else if err != nil {
			return fmt.Errorf("decide assessment: %w", err)
		}
		if author == actor {
			return handover.Errorf(handover.EFORBIDDEN, "Another person must approve an assessment than the one who wrote it.")
		}
		res, err := tx.ExecContext(ctx, `UPDATE assessments SET status = $1, approved_by = $2, approved_at = $3, retain_until = $4
			WHERE id = $5 AND status = 'draft'`, status, actor, tx.Now, tx.Now.Add(Retention), id)
		if err != nil {
			return fmt.Errorf("decide assessment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ECONFLICT, "This assessment was already decided.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "assessment." + status, ObjectType: "assessment", ObjectID: id})
	})
}

// Require returns nil when an approved assessment covers the activity for
// every purpose given, else an EFORBIDDEN error naming the first missing.
func (s *Store) Require(ctx context.Context, transferID, activity string, purposes []string) error {
	for _, p := range purposes {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM assessments WHERE transfer_id = $1 AND activity = $2 AND purpose = $3 AND status = 'approved'`,
			transferID, activity, p).Scan(&n); err != nil {
			return fmt.Errorf("check assessment: %w", err)
		}
		if n == 0 {
			return handover.Errorf(handover.EFORBIDDEN, "An approved impact assessment (PIPL Art. 55) for %s to purpose %q is required first: POST /api/v1/assessments.", activity, p)
		}
	}
	return nil
}

// FindAssessments lists a transfer's assessments, newest first.
func (s *Store) FindAssessments(ctx context.Context, transferID string) ([]*Assessment, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (*Assessment, error) {
		var a Assessment
		var approved, retain sql.NullTime
		if err := row.Scan(&a.ID, &a.TransferID, &a.Activity, &a.Purpose, &a.Necessity, &a.Risks, &a.Measures, &a.Status, &a.CreatedBy,
			&a.CreatedAt, &a.ApprovedBy, &approved, &retain); err != nil {
			return nil, err
		}
		if approved.Valid {
			a.ApprovedAt = &approved.Time
		}
		if retain.Valid {
			a.RetainUntil = &retain.Time
		}
		return &a, nil
	}, `SELECT id, transfer_id, activity, purpose, necessity, risks, measures, status, created_by, created_at,
		approved_by, approved_at, retain_until FROM assessments WHERE transfer_id = $1 ORDER BY created_at DESC, id`, transferID)
	if err != nil {
		return nil, fmt.Errorf("list assessments: %w", err)
	}
	return out, nil
}
