package campaigns

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// SuppressCustomerChannel is SuppressCustomer for one channel: the
// customer's unsent deliveries on ch in live campaigns are suppressed with
// reason, the others stay.
func (s *Service) SuppressCustomerChannel(ctx context.Context, customerID string, ch channels.Name, reason string) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'suppressed', skip_reason = $1, updated_at = $2
			WHERE customer_id = $3 AND channel = $4 AND status IN ('planned', 'queued') AND campaign_id IN
			(SELECT id FROM campaigns WHERE status IN ('scheduled', 'running', 'paused'))`, reason, tx.Now, customerID, string(ch))
		if err != nil {
			return fmt.Errorf("suppress customer channel deliveries: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}
