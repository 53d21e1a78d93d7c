package feedback

import (
	"context"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// LogCall records what a customer said on a phone call, as taken down by
// staff: it becomes a ticket message on the channel "phone" exactly as a
// written reply would (rules, topic, SLA), and the logging is audited. It
// returns the ticket.
func (s *Service) LogCall(ctx context.Context, customerID, staffID, text string) (string, error) {
	text = strings.TrimSpace(text)
	if customerID == "" || text == "" {
		return "", handover.Errorf(handover.EINVALID, "A call needs the customer (customer_id) and what was said (text).")
	}
	if len(text) > 20_000 {
		return "", handover.Errorf(handover.ETOOLARGE, "The call note is too long (20 KB at most).")
	}
	if _, err := s.cfg.Customers.FindCustomerByID(ctx, customerID); err != nil {
		return "", err
	}
	ticketID, err := s.handle(ctx, channels.InboundEvent{Channel: channels.Phone, Kind: channels.EventMessage,
		DedupKey: ulid.Make().String(), CustomerID: customerID, Text: text, OccurredAt: s.db.Now()})
	if err != nil {
		return "", err
	}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: "staff:" + staffID, Action: "ticket.log_call", ObjectType: "ticket", ObjectID: ticketID,
			Detail: "customer=" + customerID})
	})
	return ticketID, err
}
