package governance

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Audit actions that count as access to personal data in reviews and the
// access report: reveals (unmasked views) and exports (data leaving).
var (
	revealActions = []string{"customer.reveal", "correction.reveal", "ticket.reveal"}
	exportActions = []string{"customer.data_export", "transfer.export", "handover.export"}
	signInActions = []string{"staff.login"}
)

// Review is one access review: every staff account as it stood, for an
// admin to confirm or revoke.
type Review struct {
	ID          string       `json:"id"`
	PeriodStart time.Time    `json:"period_start"`
	PeriodEnd   time.Time    `json:"period_end"`
	Status      string       `json:"status"` // open | completed
	CreatedBy   string       `json:"created_by"`
	CreatedAt   time.Time    `json:"created_at"`
	CompletedAt *time.Time   `json:"completed_at"`
	Items       []ReviewItem `json:"items"`
}

// ReviewItem is one account in a review.
type ReviewItem struct {
	StaffID    string     `json:"staff_id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Disabled   bool       `json:"disabled"`
	LastSignIn *time.Time `json:"last_sign_in"`
	Reveals    int        `json:"reveals"`
	Exports    int        `json:"exports"`
	Decision   string     `json:"decision"` // pending | confirmed | revoked
	DecidedBy  string     `json:"decided_by"`
	DecidedAt  *time.Time `json:"decided_at"`
	Note       string     `json:"note"`
	// Flagged: still pending when the review is older than a week.
	Flagged bool `json:"flagged"`
}

// StartReview snapshots every enabled account with its role, last sign-in
// and the reveals and exports since the previous review (or ReviewEvery).
func (s *Service) StartReview(ctx context.Context, actor string) (*Review, error) {
	r := &Review{ID: ulid.Make().String(), Status: "open", CreatedBy: actor}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		r.PeriodEnd, r.CreatedAt = tx.Now, tx.Now
		var last sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT period_end FROM access_reviews ORDER BY period_end DESC LIMIT 1`).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("start review: %w", err)
		}
		r.PeriodStart = tx.Now.Add(-s.cfg.ReviewEvery)
		if last.Valid {
			r.PeriodStart = last.Time
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO access_reviews (id, period_start, period_end, status, created_by, created_at)
			VALUES ($1, $2, $3, 'open', $4, $5)`, r.ID, r.PeriodStart, r.PeriodEnd, actor, tx.Now); err != nil {
			return fmt.Errorf("start review: %w", err)
		}
		signIns, args := database.In([]any{r.ID, r.PeriodStart}, signInActions)
		reveals, args := database.In(args, revealActions)
		exports, args := database.In(args, exportActions)
		q := `INSERT INTO access_review_items (review_id, staff_id, role, last_sign_in, reveals, exports, decision)
			SELECT $1, s.id, s.role,
				(SELECT a.at FROM audit_log a WHERE a.actor = 'staff:' || s.id AND a.action IN ` + signIns + ` ORDER BY a.at DESC LIMIT 1),
				(SELECT COUNT(*) FROM audit_log a WHERE a.actor = 'staff:' || s.id AND a.at >= $2 AND a.action IN ` + reveals + `),
				(SELECT COUNT(*) FROM audit_log a WHERE a.actor = 'staff:' || s.id AND a.at >= $2 AND a.action IN ` + exports + `),
				'pending'
			FROM staff s WHERE s.disabled_at IS NULL`
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("start review: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "access_review.start", ObjectType: "access_review", ObjectID: r.ID})
	})
	if err != nil {
		return nil, err
	}
	return s.FindReviewByID(ctx, r.ID)
}

// FindReviewByID returns a review with its items.
func (s *Service) FindReviewByID(ctx context.Context, id string) (*Review, error) {
	var r Review
	var completed sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, period_start, period_end, status, created_by, created_at, completed_at
		FROM access_reviews WHERE id = $1`, id).Scan(&r.ID, &r.PeriodStart, &r.PeriodEnd, &r.Status, &r.CreatedBy, &r.CreatedAt, &completed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Access review not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find review: %w", err)
	}
	if completed.Valid {
		r.CompletedAt = &completed.Time
	}
	stale := s.db.Now().Sub(r.CreatedAt) > 7*24*time.Hour
	r.Items, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (ReviewItem, error) {
		var it ReviewItem
		var signIn, decided sql.NullTime
		if err := row.Scan(&it.StaffID, &it.Email, &it.Name, &it.Role, &it.Disabled, &signIn, &it.Reveals, &it.Exports,
			&it.Decision, &it.DecidedBy, &decided, &it.Note); err != nil {
			return it, err
		}
		if signIn.Valid {
			it.LastSignIn = &signIn.Time
		}
		if decided.Valid {
			it.DecidedAt = &decided.Time
		}
		it.Flagged = it.Decision == "pending" && stale
		return it, nil
	}, `SELECT i.staff_id, s.email, s.name, i.role, s.disabled_at IS NOT NULL, i.last_sign_in, i.reveals, i.exports,
		i.decision, i.decided_by, i.decided_at, i.note FROM access_review_items i JOIN staff s ON s.id = i.staff_id
		WHERE i.review_id = $1 ORDER BY s.email`, id)
	if err != nil {
		return nil, fmt.Errorf("find review: %w", err)
	}
	return &r, nil
}

// DecideReviewItem confirms an account or revokes it (disabling the
// account and its API tokens at once); the last decision completes the
// review.
func (s *Service) DecideReviewItem(ctx context.Context, reviewID, staffID, decision, note, actor string) error {
	if decision != "confirmed" && decision != "revoked" {
		return handover.Errorf(handover.EINVALID, "Decision must be confirmed or revoked.")
	}
	if actor == "staff:"+staffID && decision == "confirmed" {
		return handover.Errorf(handover.EFORBIDDEN, "Another admin must confirm your own access.")
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE access_review_items SET decision = $1, note = $2, decided_by = $3, decided_at = $4
			WHERE review_id = $5 AND staff_id = $6 AND decision = 'pending'
			AND EXISTS (SELECT 1 FROM access_reviews r WHERE r.id = $5 AND r.status = 'open')`, decision, note, actor, tx.Now, reviewID, staffID)
		if err != nil {
			return fmt.Errorf("decide review item: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ECONFLICT, "This account is not pending in an open review (already decided, or not in it).")
		}
		if decision == "revoked" {
			if _, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, tx.Now, staffID); err != nil {
				return fmt.Errorf("revoke access: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL`, tx.Now, staffID); err != nil {
				return fmt.Errorf("revoke access: %w", err)
			}
		}
		if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "access_review." + decision, ObjectType: "staff", ObjectID: staffID,
			Detail: "review=" + reviewID}); err != nil {
			return err
		}
		var pending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM access_review_items WHERE review_id = $1 AND decision = 'pending'`, reviewID).Scan(&pending); err != nil {
			return fmt.Errorf("decide review item: %w", err)
		}
		if pending > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE access_reviews SET status = 'completed', completed_at = $1 WHERE id = $2`, tx.Now, reviewID); err != nil {
			return fmt.Errorf("complete review: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "access_review.complete", ObjectType: "access_review", ObjectID: reviewID})
	})
}

// ReviewDue reports whether no review started within ReviewEvery; the
// scheduler starts one then.
func (s *Service) ReviewDue(ctx context.Context) (bool, error) {
	var last sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT created_at FROM access_reviews ORDER BY created_at DESC LIMIT 1`).Scan(&last)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("review due: %w", err)
	}
	return !last.Valid || s.db.Now().Sub(last.Time) >= s.cfg.ReviewEvery, nil
}

// DisableExpiredStaff disables third-party accounts past their expiry and
// revokes their tokens; sign-in and tokens already refuse them, this makes
// it visible and permanent.
func (s *Service) DisableExpiredStaff(ctx context.Context) (int, error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM staff WHERE disabled_at IS NULL AND expires_at IS NOT NULL AND expires_at <= $1`, s.db.Now())
	if err != nil {
		return 0, err
	}
	for _, id := range ids {
		err := s.db.InTx(ctx, func(tx *database.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, tx.Now, id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL`, tx.Now, id); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "staff.expire", ObjectType: "staff", ObjectID: id})
		})
		if err != nil {
			return 0, fmt.Errorf("disable expired staff: %w", err)
		}
	}
	return len(ids), nil
}

// LatestReview returns the newest review, or ENOTFOUND before the first.
func (s *Service) LatestReview(ctx context.Context) (*Review, error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM access_reviews ORDER BY created_at DESC, id DESC LIMIT 1`)
	if err != nil {
		return nil, fmt.Errorf("latest review: %w", err)
	}
	if len(ids) == 0 {
		return nil, handover.Errorf(handover.ENOTFOUND, "No access review has been started yet.")
	}
	return s.FindReviewByID(ctx, ids[0])
}
