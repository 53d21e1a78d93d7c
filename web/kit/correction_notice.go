package kit

import (
	"context"
	"log/slog"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
)

// RejectCorrection rejects the request with its reason and, when the
// rejection is new, tells the customer on their channel (feedback.Tell:
// on their correction ticket, audited as the member's reply). told is
// false when no channel reaches them or the message failed; the portal's
// details page shows the reason either way.
func RejectCorrection(ctx context.Context, cs *customers.Store, rs *rights.Store, tickets *feedback.Service, log *slog.Logger, id string, m *staff.Member, reason string) (r *rights.CorrectionRequest, told bool, err error) {
	before, err := rs.CorrectionStatus(ctx, id)
	if err != nil {
		return nil, false, err
	}
	if r, err = rs.RejectCorrection(ctx, id, m.Actor(), reason); err != nil {
		return nil, false, err
	}
	if before == rights.CorrectionRejected || tickets == nil {
		return r, false, nil
	}
	cu, err := cs.FindCustomerByID(ctx, r.CustomerID)
	if err != nil {
		log.Error("correction rejection not sent", "correction_id", id, "err", err)
		return r, false, nil
	}
	text := locales.Format(locales.Lang(cu.Locale), "agent.correction_rejected_message", map[string]any{"Reason": r.Reason}, nil)
	msg, err := tickets.Tell(ctx, r.CustomerID, feedback.CategoryCorrection, m.ID, text)
	switch {
	case handover.ErrorCode(err) == handover.EINVALID:
		log.Warn("correction rejection not sent: no channel reaches the customer", "correction_id", id)
		return r, false, nil
	case err != nil:
		// The rejection stands and the portal shows it; the page says
		// the message did not go.
		log.Error("correction rejection not sent", "correction_id", id, "err", err)
		return r, false, nil
	}
	return r, msg.DeliveryStatus != channels.StatusFailed, nil
}
