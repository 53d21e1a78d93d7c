package rights

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoverhq/handover"
)

// CorrectionStatus returns a request's status without opening it: what a
// caller checks before a decision to tell whether the decision is new.
func (s *Store) CorrectionStatus(ctx context.Context, id string) (CorrectionStatus, error) {
	var status CorrectionStatus
	err := s.db.QueryRowContext(ctx, `SELECT status FROM correction_requests WHERE id = $1`, id).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", handover.Errorf(handover.ENOTFOUND, "Correction request not found.")
	}
	if err != nil {
		return "", fmt.Errorf("correction status: %w", err)
	}
	return status, nil
}
