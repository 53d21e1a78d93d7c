package rights

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

const correctionColumns = `id, customer_id, status, fields, proposed_enc, source, link_id, reason, decided_by, decided_at, created_at, updated_at`

type sealedCorrection struct {
	CorrectionRequest
	enc string
}

func scanCorrection(row interface{ Scan(...any) error }) (*sealedCorrection, error) {
	var r sealedCorrection
	var fields string
	var decided sql.NullTime
	if err := row.Scan(&r.ID, &r.CustomerID, &r.Status, &fields, &r.enc, &r.Source, &r.LinkID, &r.Reason, &r.DecidedBy, &decided,
		&r.CreatedAt, &r.UpdatedAt); err != nil {
		return nil, err
	}
	if fields != "" {
		r.Fields = strings.Split(fields, ",")
	}
	if decided.Valid {
		t := decided.Time.UTC()
		r.DecidedAt = &t
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return &r, nil
}

// openCorrections opens the proposed values and fills in the customers'
// current values of the same fields. An erased customer's requests keep
// only their metadata.
func (s *Store) openCorrections(ctx context.Context, q database.Querier, sealed []*sealedCorrection) ([]*CorrectionRequest, error) {
	seen := map[string]bool{}
	var ids []string
	for _, r := range sealed {
		if !seen[r.CustomerID] {
			seen[r.CustomerID] = true
			ids = append(ids, r.CustomerID)
		}
	}
	custs, err := s.customers.FindCustomersByIDsTx(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	current := map[string]CorrectionFields{}
	for id, c := range custs {
		current[id] = currentFields(c)
	}
	keys, err := s.vault.CustomerKeys(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*CorrectionRequest, len(sealed))
	for i, r := range sealed {
		out[i] = &r.CorrectionRequest
		dk := keys[r.CustomerID]
		if dk == nil {
			continue
		}
		plain, err := dk.Open(r.enc, correctionContext(r.ID))
		if err != nil {
			return nil, fmt.Errorf("correction request %s: %w", r.ID, err)
		}
		if err := json.Unmarshal([]byte(plain), &r.Proposed); err != nil {
			return nil, fmt.Errorf("correction request %s is malformed", r.ID)
		}
		cur := current[r.CustomerID]
		for _, f := range r.Fields {
			if p := r.Current.field(f); p != nil {
				*p = *cur.field(f)
			}
		}
	}
	return out, nil
}

func (s *Store) queryCorrections(ctx context.Context, q database.Querier, where string, args ...any) ([]*CorrectionRequest, error) {
	sealed, err := database.QueryAll(ctx, q, scanCorrection, `SELECT `+correctionColumns+` FROM correction_requests WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("find correction requests: %w", err)
	}
	return s.openCorrections(ctx, q, sealed)
}

func (s *Store) findCorrection(ctx context.Context, q database.Querier, id string) (*CorrectionRequest, error) {
	list, err := s.queryCorrections(ctx, q, `id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, handover.Errorf(handover.ENOTFOUND, "Correction request not found.")
	}
	return list[0], nil
}

// customerCorrections lists the customer's requests, oldest first, in the
// given statuses (all when none).
func (s *Store) customerCorrections(ctx context.Context, q database.Querier, customerID string, statuses ...CorrectionStatus) ([]*CorrectionRequest, error) {
	where, args := `customer_id = $1`, []any{customerID}
	if len(statuses) > 0 {
		ph := make([]string, len(statuses))
		for i, st := range statuses {
			args = append(args, st)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		where += ` AND status IN (` + strings.Join(ph, ",") + `)`
	}
	return s.queryCorrections(ctx, q, where+` ORDER BY id`, args...)
}

// CustomerCorrections lists all of a customer's correction requests,
// oldest first, decrypted: for the customer's own pages.
func (s *Store) CustomerCorrections(ctx context.Context, customerID string) ([]*CorrectionRequest, error) {
	return s.customerCorrections(ctx, s.db, customerID)
}

// CorrectionFilter selects requests for FindCorrections.
type CorrectionFilter struct {
	Status CorrectionStatus // default pending
	Cursor string
	Limit  int // default 50, at most 200
}

// FindCorrections lists requests in id (submission) order, decrypted;
// callers show them Masked. nextCursor is "" after the last page.
func (s *Store) FindCorrections(ctx context.Context, f CorrectionFilter) (list []*CorrectionRequest, nextCursor string, err error) {
	status := f.Status
	if status == "" {
		status = CorrectionPending
	}
	switch status {
	case CorrectionAwaitingConfirmation, CorrectionPending, CorrectionApproved, CorrectionRejected, CorrectionCancelled:
	default:
		return nil, "", handover.Errorf(handover.EINVALID, "status must be awaiting_confirmation, pending, approved, rejected or cancelled")
	}
	where, args := `status = $1`, []any{status}
	if f.Cursor != "" {
		if _, err := ulid.ParseStrict(f.Cursor); err != nil {
			return nil, "", handover.Errorf(handover.EINVALID, "cursor is not valid")
		}
		where, args = where+` AND id > $2`, append(args, f.Cursor)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	list, err = s.queryCorrections(ctx, s.db, where+fmt.Sprintf(` ORDER BY id LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, "", err
	}
	if len(list) > limit {
		list = list[:limit]
		nextCursor = list[limit-1].ID
	}
	return list, nextCursor, nil
}

// RevealCorrection returns a request unmasked for a staff member who gave
// a reason, and audits it.
func (s *Store) RevealCorrection(ctx context.Context, id, actor, reason string) (*CorrectionRequest, error) {
	reason, err := decisionReason(reason, "reveal a correction request")
	if err != nil {
		return nil, err
	}
	var req *CorrectionRequest
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		if req, err = s.findCorrection(ctx, tx, id); err != nil {
			return err
		}
		return auditCorrection(ctx, tx, actor, "correction.reveal", req, reason)
	})
	return req, err
}

// decisionReason checks a reason staff must give.
func decisionReason(reason, what string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return "", handover.Errorf(handover.EINVALID, "A reason is required to %s.", what)
	}
	if len([]rune(reason)) > 500 {
		return "", handover.Errorf(handover.EINVALID, "The reason must be at most 500 characters.")
	}
	return reason, nil
}

// ApproveCorrection applies a pending request to the customer — sealed
// fields and blind indexes in one transaction — and audits it. Approving
// an approved request returns it and changes nothing; a phone or email
// that another customer has is ECONFLICT.
func (s *Store) ApproveCorrection(ctx context.Context, id, actor string) (*CorrectionRequest, error) {
	var req *CorrectionRequest
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		// The customer's row is locked first, as erasure locks it, so an
		// erasure and an approval run one after the other.
		var customerID string
		if err := tx.QueryRowContext(ctx, `SELECT customer_id FROM correction_requests WHERE id = $1`, id).Scan(&customerID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return handover.Errorf(handover.ENOTFOUND, "Correction request not found.")
			}
			return fmt.Errorf("approve correction: %w", err)
		}
		status, err := customers.LockCustomer(ctx, tx, customerID)
		if err != nil {
			return err
		}
		// Archived records (归档) are read-only for staff edits.
		var archived int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_records WHERE record_type = 'customer' AND record_id = $1`,
			customerID).Scan(&archived); err != nil {
			return fmt.Errorf("approve correction: %w", err)
		}
		if archived > 0 {
			return handover.Errorf(handover.ECONFLICT, "This customer is archived and read-only; the correction cannot be applied.")
		}
		// The conditional update decides which of two racing approvals
		// applies the change; the other finds it approved.
		res, err := tx.ExecContext(ctx, `UPDATE correction_requests SET status = $1, decided_by = $2, decided_at = $3, updated_at = $3
			WHERE id = $4 AND status = $5`, CorrectionApproved, actor, tx.Now, id, CorrectionPending)
		if err != nil {
			return fmt.Errorf("approve correction: %w", err)
		}
		if req, err = s.findCorrection(ctx, tx, id); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if req.Status == CorrectionApproved {
				return nil
			}
			return handover.Errorf(handover.ECONFLICT, "Only a pending request can be approved; this one is %s.", req.Status)
		}
		if status == customers.StatusErased {
			return handover.Errorf(handover.ECONFLICT, "The customer was erased; the request cannot be applied.")
		}
		if err := s.applyCorrection(ctx, tx, req); err != nil {
			return err
		}
		return auditCorrection(ctx, tx, actor, "correction.approve", req, "")
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}

// applyCorrection writes the proposed values into the customer's sealed
// fields and recomputes the blind indexes.
func (s *Store) applyCorrection(ctx context.Context, tx *database.Tx, req *CorrectionRequest) error {
	var enc string
	if err := tx.QueryRowContext(ctx, `SELECT pii_enc FROM customers WHERE id = $1`, req.CustomerID).Scan(&enc); err != nil {
		return fmt.Errorf("apply correction: %w", err)
	}
	keys, err := s.vault.CustomerKeys(ctx, tx, []string{req.CustomerID})
	if err != nil {
		return err
	}
	dk := keys[req.CustomerID]
	if dk == nil {
		return handover.Errorf(handover.ECONFLICT, "The customer was erased; the request cannot be applied.")
	}
	p, err := customers.OpenPersonal(dk, req.CustomerID, enc)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&p.Name, req.Proposed.Name}, {&p.Phone, req.Proposed.Phone}, {&p.Email, req.Proposed.Email},
		{&p.Address, req.Proposed.Address}, {&p.Company, req.Proposed.Company}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	phoneIdx, emailIdx := s.vault.Index.Phone(p.Phone), s.vault.Index.Email(p.Email)
	for _, c := range []struct{ column, idx, what string }{{"phone_idx", phoneIdx, "phone number"}, {"email_idx", emailIdx, "email address"}} {
		if c.idx == "" {
			continue
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE `+c.column+` = $1 AND id <> $2`, c.idx, req.CustomerID).Scan(&n); err != nil {
			return fmt.Errorf("apply correction: %w", err)
		}
		if n > 0 {
			return handover.Errorf(handover.ECONFLICT, "Another customer already has this %s; merge or correct that customer first.", c.what)
		}
	}
	_, err = tx.ExecContext(ctx, `UPDATE customers SET pii_enc = $1, phone_idx = $2, email_idx = $3, updated_at = $4 WHERE id = $5`,
		customers.SealPersonal(dk, req.CustomerID, &p), database.Nullable(phoneIdx), database.Nullable(emailIdx), tx.Now, req.CustomerID)
	if err != nil {
		if err = database.MapError(err); handover.ErrorCode(err) == handover.ECONFLICT {
			return handover.Errorf(handover.ECONFLICT, "Another customer already has this phone number or email address.")
		}
		return fmt.Errorf("apply correction: %w", err)
	}
	return nil
}

// RejectCorrection refuses a request that is pending or still awaiting
// its code, with the reason the customer is owed (Art. 50), and audits it.
// Rejecting a rejected request returns it unchanged.
func (s *Store) RejectCorrection(ctx context.Context, id, actor, reason string) (*CorrectionRequest, error) {
	reason, err := decisionReason(reason, "reject a correction request")
	if err != nil {
		return nil, err
	}
	var req *CorrectionRequest
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE correction_requests SET status = $1, reason = $2, decided_by = $3, decided_at = $4, updated_at = $4
			WHERE id = $5 AND status IN ($6, $7)`, CorrectionRejected, reason, actor, tx.Now, id, CorrectionPending, CorrectionAwaitingConfirmation)
		if err != nil {
			return fmt.Errorf("reject correction: %w", err)
		}
		if req, err = s.findCorrection(ctx, tx, id); err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			if req.Status == CorrectionRejected {
				return nil
			}
			return handover.Errorf(handover.ECONFLICT, "Only an open request can be rejected; this one is %s.", req.Status)
		}
		return auditCorrection(ctx, tx, actor, "correction.reject", req, reason)
	})
	if err != nil {
		return nil, err
	}
	return req, nil
}
