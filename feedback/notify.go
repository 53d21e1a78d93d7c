package feedback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// Tell sends the customer text from staff about a decision taken outside
// a ticket (a rejected correction, with its reason): on the customer's
// latest ticket of category, or on a new one opened for it, by the
// channel a reply would take (ChooseChannel), recorded and audited as
// staffID's reply. It returns the message (its DeliveryStatus says
// whether it went) and an EINVALID error when no channel reaches the
// customer.
func (s *Service) Tell(ctx context.Context, customerID, category, staffID, text string) (*Message, error) {
	text = strings.TrimSpace(text)
	if customerID == "" || text == "" {
		return nil, handover.Errorf(handover.EINVALID, "A message to a customer needs the customer and the text.")
	}
	c, err := s.cfg.Customers.FindCustomerByID(ctx, customerID)
	if err != nil {
		return nil, err
	}
	var ticketID string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM tickets WHERE customer_id = $1 AND category = $2 AND status <> 'merged'
		ORDER BY created_at DESC, id DESC LIMIT 1`, customerID, category).Scan(&ticketID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("find ticket: %w", err)
	}
	var t *Ticket
	if ticketID != "" {
		if t, err = s.FindTicketByID(ctx, ticketID); err != nil {
			return nil, err
		}
	}
	var reach Reachability
	lastUsed := channels.Portal
	if t != nil {
		lastUsed = t.Channel
	}
	if reach, err = s.reachability(ctx, c, lastUsed, ""); err != nil {
		return nil, err
	}
	ch, reason, err := ChooseChannel(reach)
	if err != nil {
		return nil, err
	}
	if t == nil {
		// Resolved from the start: the decision is taken; a reply from
		// the customer reopens it like any other.
		err := s.db.InTx(ctx, func(tx *database.Tx) error {
			ticketID, err = s.createTicket(ctx, tx, channels.InboundEvent{Channel: channels.Portal, CustomerID: customerID},
				category, PriorityNormal, StatusResolved)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `UPDATE tickets SET resolved_at = $1 WHERE id = $2`, tx.Now, ticketID)
			return err
		})
		if err != nil {
			return nil, err
		}
		if t, err = s.FindTicketByID(ctx, ticketID); err != nil {
			return nil, err
		}
	}
	return s.deliver(ctx, t, c, ch, reason, text, staffID)
}
