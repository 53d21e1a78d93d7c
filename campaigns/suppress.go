package campaigns

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/templates"
)

// OptOutKind is the kind of opt-out that stops a campaign of kind k:
// customers.OptOutSurvey, OptOutService or OptOutPromotional, or "" for
// the notices the law requires (transfer, incident), which no opt-out
// stops.
func OptOutKind(k templates.Kind) string {
	switch k {
	case templates.TransferNotice, templates.IncidentNotice:
		return ""
	case templates.Survey:
		return customers.OptOutSurvey
	case templates.ConsentRequest, templates.DetailCheck:
		return customers.OptOutService
	}
	return customers.OptOutPromotional
}

// SuppressOptOuts suppresses, with reason, the customer's unsent
// deliveries in live campaigns that the opt-outs stop: on an opt-out's
// channel, of a campaign kind its kind covers. Required notices stay. It
// returns how many rows it suppressed.
func (s *Service) SuppressOptOuts(ctx context.Context, customerID string, list []customers.OptOut, reason SkipReason) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		for _, o := range list {
			for _, k := range templates.Kinds {
				if OptOutKind(k) != o.Kind {
					continue
				}
				res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'suppressed', skip_reason = $1, updated_at = $2
					WHERE customer_id = $3 AND channel = $4 AND status IN ('planned', 'queued') AND campaign_id IN
					(SELECT id FROM campaigns WHERE status IN ('scheduled', 'running', 'paused') AND kind = $5)`,
					reason, tx.Now, customerID, string(o.Channel), string(k))
				if err != nil {
					return fmt.Errorf("suppress opted-out deliveries: %w", err)
				}
				m, _ := res.RowsAffected()
				n += m
			}
		}
		return nil
	})
	return int(n), err
}
