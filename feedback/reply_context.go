package feedback

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// replyContext is what a reply to a ticket needs beyond the customer's
// record, kept sealed on the ticket (reply_enc): under the customer's key,
// or in an envelope of its own while the ticket is unmatched.
type replyContext struct {
	// From is an unknown sender's address (unmatched tickets only): where
	// a reply goes, and what linking the ticket may bind to the customer.
	From channels.Address `json:"from,omitzero"`
	// EmailMessageID and EmailSubject are the customer's last email's, so
	// that an email reply threads under it.
	EmailMessageID string `json:"email_message_id,omitempty"`
	EmailSubject   string `json:"email_subject,omitempty"`
}

func replyContextName(ticketID string) string { return "ticket-reply/" + ticketID }

// loadReplyContext opens the ticket's reply context; a ticket without one
// (or whose customer was erased) has the zero context.
func (s *Service) loadReplyContext(ctx context.Context, q database.Querier, ticketID, customerID string) (replyContext, error) {
	var rc replyContext
	var env pii.Envelope
	err := q.QueryRowContext(ctx, `SELECT reply_key_id, reply_key_wrapped, reply_enc FROM tickets WHERE id = $1`, ticketID).
		Scan(&env.KeyID, &env.Wrapped, &env.Sealed)
	if err != nil {
		return rc, fmt.Errorf("reply context: %w", database.MapError(err))
	}
	if env.Sealed == "" {
		return rc, nil
	}
	err = s.cfg.Vault.Keys.OpenCustomerEnvelope(ctx, q, customerID, env, replyContextName(ticketID), &rc)
	if errors.Is(err, pii.ErrShredded) {
		return replyContext{}, nil
	}
	if err != nil {
		return rc, fmt.Errorf("open reply context of ticket %s: %w", ticketID, err)
	}
	return rc, nil
}

// saveReplyContext seals rc on the ticket: under the customer's key when
// customerID is known (and not erased), else in an envelope.
func (s *Service) saveReplyContext(ctx context.Context, tx *database.Tx, ticketID, customerID string, rc replyContext) error {
	var env pii.Envelope
	var err error
	var dk *pii.DataKey
	if customerID != "" {
		keys, err := s.cfg.Vault.CustomerKeys(ctx, tx, []string{customerID})
		if err != nil {
			return err
		}
		dk = keys[customerID]
	}
	switch {
	case rc == (replyContext{}):
	case dk != nil:
		env, err = pii.SealForCustomer(dk, rc, replyContextName(ticketID))
	default:
		env, err = s.cfg.Vault.Keys.SealEnvelope(rc, replyContextName(ticketID))
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE tickets SET reply_key_id = $1, reply_key_wrapped = $2, reply_enc = $3 WHERE id = $4`,
		env.KeyID, env.Wrapped, env.Sealed, ticketID)
	if err != nil {
		return fmt.Errorf("store reply context: %w", err)
	}
	return nil
}

// noteReplyContext keeps what the customer's message tells a reply: an
// unknown sender's address, an email's Message-ID and subject.
func (s *Service) noteReplyContext(ctx context.Context, tx *database.Tx, ticketID string, ev channels.InboundEvent) error {
	if ev.CustomerID != "" && ev.MessageID == "" {
		return nil
	}
	rc, err := s.loadReplyContext(ctx, tx, ticketID, ev.CustomerID)
	if err != nil {
		return err
	}
	if ev.CustomerID == "" {
		rc.From = ev.From
	}
	if ev.MessageID != "" {
		rc.EmailMessageID, rc.EmailSubject = ev.MessageID, ev.Subject
	}
	return s.saveReplyContext(ctx, tx, ticketID, ev.CustomerID, rc)
}

// replySubject is an email reply's subject: the customer's own with one
// "Re: " before it (none doubled), else one naming the ticket.
func replySubject(ticketID, subject string) string {
	if subject == "" {
		return "Re: [#" + ticketID + "]"
	}
	for _, p := range []string{"Re:", "RE:", "re:", "Aw:", "AW:", "回复：", "回复:", "答复：", "答复:"} {
		if len(subject) >= len(p) && subject[:len(p)] == p {
			return "Re: " + strings.TrimSpace(subject[len(p):])
		}
	}
	return "Re: " + subject
}
