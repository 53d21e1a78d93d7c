package feedback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// HandleInboundEvent turns a customer's message into a ticket message and
// moves a reply's delivery status forward on a receipt. It is called for
// every processed inbound event (the Inbox's OnEvent seam, after the
// campaigns service). Classification rules run first: an opt-out keyword
// opts the customer out of promotional messages and surveys on that
// channel and closes a ticket silently (confirming where the channel
// allows); "同意"/"不同意" answering a consent request records consent.
// Otherwise the message joins the customer's open ticket on its topic,
// reopens one resolved within the reopen window, or opens a new one; an
// unknown sender gets an unmatched ticket. A retried event adds nothing.
func (s *Service) HandleInboundEvent(ctx context.Context, ev channels.InboundEvent) error {
	_, err := s.handle(ctx, ev)
	return err
}

// handle is HandleInboundEvent returning the ticket the message landed on
// ("" for receipts, empty messages and retried events).
func (s *Service) handle(ctx context.Context, ev channels.InboundEvent) (string, error) {
	switch ev.Kind {
	case channels.EventReceipt, channels.EventBounce:
		return "", s.applyReceipt(ctx, ev)
	case channels.EventMessage:
	default:
		return "", nil
	}
	if strings.TrimSpace(ev.Text) == "" {
		return "", nil
	}
	rule, transferID, err := s.classify(ctx, ev)
	if err != nil {
		return "", err
	}
	var r routed
	actor := "system"
	if ev.CustomerID != "" {
		actor = "customer:" + ev.CustomerID
	}
	for attempt := 0; ; attempt++ {
		err = s.db.InTx(ctx, func(tx *database.Tx) error {
			var err error
			r, err = s.route(ctx, tx, ev, rule, transferID)
			return err
		})
		// Two messages of one customer raced to open the same topic: the
		// loser joins the winner's ticket on a second try.
		if handover.ErrorCode(err) != handover.ECONFLICT || attempt == 2 {
			break
		}
	}
	if err != nil || r.ticketID == "" {
		return "", err
	}
	s.publish(ctx, TicketEvent{Type: r.event, TicketID: r.ticketID, Actor: actor})
	if rule != nil && rule.Action == ActionOptOut {
		s.confirmOptOut(ctx, r.ticketID, ev)
	}
	return r.ticketID, nil
}

// classify finds the first rule that matches and applies: a consent rule
// applies only to a known customer answering a consent request campaign's
// delivery (its transfer is returned), an opt-out only to a known customer.
func (s *Service) classify(ctx context.Context, ev channels.InboundEvent) (*Rule, string, error) {
	rules, err := s.FindRules(ctx)
	if err != nil {
		return nil, "", err
	}
	text := Normalize(ev.Text)
	for i := range rules {
		r := &rules[i]
		if !r.Matches(text) {
			continue
		}
		switch r.Action {
		case ActionOptOut:
			if ev.CustomerID == "" || ev.Channel == channels.Portal {
				continue
			}
		case ActionConsent:
			if ev.CustomerID == "" || ev.DeliveryID == "" {
				continue
			}
			// An erased customer (matched through an old sent-log row) has
			// no key to seal evidence with: their word is kept as text only.
			var transferID string
			err := s.db.QueryRowContext(ctx, `SELECT c.transfer_id FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
				JOIN customers cu ON cu.id = d.customer_id
				WHERE d.id = $1 AND d.customer_id = $2 AND c.kind = 'consent_request' AND cu.status <> 'erased'`, ev.DeliveryID, ev.CustomerID).Scan(&transferID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, "", fmt.Errorf("consent reply: %w", err)
			}
			return r, transferID, nil
		}
		return r, "", nil
	}
	return nil, "", nil
}

// routed says where a message went.
type routed struct {
	ticketID string
	event    string // created | message
}

// route stores the message on its ticket and applies the rule, in tx.
func (s *Service) route(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, rule *Rule, transferID string) (routed, error) {
	var r routed
	if ev.ID != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_messages WHERE inbound_event_id = $1`, ev.ID).Scan(&n); err != nil {
			return r, fmt.Errorf("route message: %w", err)
		}
		if n > 0 {
			return r, nil // a retried event
		}
	}
	category, priority := "", PriorityNormal
	if rule != nil {
		category = rule.Category
		if rule.Priority != "" {
			priority = rule.Priority
		}
	}
	if ev.Channel == channels.Portal && category == "" {
		category = CategorySurvey
	}
	actor := "system"
	if ev.CustomerID != "" {
		actor = "customer:" + ev.CustomerID
	}
	var err error
	switch {
	case rule != nil && (rule.Action == ActionOptOut || rule.Action == ActionConsent):
		// Handled at once: a closed ticket keeps the message on record
		// without entering the queue or touching an open conversation.
		r.ticketID, err = s.createTicket(ctx, tx, ev, category, priority, StatusClosed)
		r.event = "created"
	case ev.CustomerID == "":
		r, err = s.routeUnmatched(ctx, tx, ev, category, priority)
	default:
		r, err = s.routeCustomer(ctx, tx, ev, category, priority)
	}
	if err != nil {
		return r, err
	}
	msgID, err := s.insertInbound(ctx, tx, r.ticketID, ev)
	if err != nil {
		return r, err
	}
	if err := s.noteReplyContext(ctx, tx, r.ticketID, ev); err != nil {
		return r, err
	}
	if rule != nil {
		switch rule.Action {
		case ActionOptOut:
			err = s.optOutReply(ctx, tx, ev, actor)
		case ActionConsent:
			err = s.recordConsentReply(ctx, tx, ev, rule.Decision, transferID, msgID)
		}
		if err != nil {
			return r, err
		}
	}
	return r, audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.message", ObjectType: "ticket", ObjectID: r.ticketID,
		Detail: "channel=" + string(ev.Channel) + " message=" + msgID})
}

// routeCustomer joins the customer's open ticket on the topic (any topic
// for an unclassified message; a reply to a staff reply joins that
// ticket), else reopens one resolved within the window, else opens one.
func (s *Service) routeCustomer(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, category, priority string) (routed, error) {
	var id string
	var status Status
	if ev.DeliveryID != "" {
		err := tx.QueryRowContext(ctx, `SELECT t.id, t.status FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
			WHERE m.id = $1 AND m.direction = 'out' AND t.customer_id = $2 AND t.status IN ('new', 'open', 'pending')`,
			ev.DeliveryID, ev.CustomerID).Scan(&id, &status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return routed{}, fmt.Errorf("route message: %w", err)
		}
	}
	topic, args := "", []any{ev.CustomerID}
	if category != "" {
		topic, args = " AND category = $2", append(args, category)
	}
	if id == "" {
		err := tx.QueryRowContext(ctx, `SELECT id, status FROM tickets WHERE customer_id = $1 AND status IN ('new', 'open', 'pending')`+topic+
			` ORDER BY updated_at DESC, id DESC LIMIT 1`, args...).Scan(&id, &status)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return routed{}, fmt.Errorf("route message: %w", err)
		}
	}
	if id != "" {
		next := status
		if status == StatusPending {
			next = StatusOpen // the customer answered
		}
		_, err := tx.ExecContext(ctx, `UPDATE tickets SET status = $1, channel = $2, updated_at = $3 WHERE id = $4`,
			next, string(ev.Channel), tx.Now, id)
		if err != nil {
			return routed{}, fmt.Errorf("join ticket: %w", err)
		}
		return routed{ticketID: id, event: "message"}, nil
	}
	var resolvedPriority string
	err := tx.QueryRowContext(ctx, `SELECT id, priority FROM tickets WHERE customer_id = $1 AND status = 'resolved' AND resolved_at >= $`+
		fmt.Sprint(len(args)+1)+topic+` ORDER BY resolved_at DESC, id DESC LIMIT 1`, append(args, tx.Now.Add(-s.cfg.ReopenWindow))...).
		Scan(&id, &resolvedPriority)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return routed{}, fmt.Errorf("route message: %w", err)
	}
	if id != "" {
		// Reopened: the resolution clock starts again from now.
		_, due := s.deadlines(tx.Now, resolvedPriority)
		_, err := tx.ExecContext(ctx, `UPDATE tickets SET status = 'open', channel = $1, resolved_at = NULL, resolution_due = $2,
			sla_due = $2, updated_at = $3 WHERE id = $4`, string(ev.Channel), due, tx.Now, id)
		if err != nil {
			return routed{}, fmt.Errorf("reopen ticket: %w", database.MapError(err))
		}
		return routed{ticketID: id, event: "reopened"}, nil
	}
	if category == "" {
		category = CategoryGeneral
	}
	id, err = s.createTicket(ctx, tx, ev, category, priority, StatusNew)
	return routed{ticketID: id, event: "created"}, err
}

// routeUnmatched joins the unknown sender's open unmatched ticket (found
// by the blind index of their address) or opens one.
func (s *Service) routeUnmatched(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, category, priority string) (routed, error) {
	if idx := senderIndex(s.cfg.Vault.Index, ev.From); idx != "" {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM tickets WHERE unmatched AND sender_idx = $1 AND status IN ('new', 'open', 'pending')
			ORDER BY updated_at DESC LIMIT 1`, idx).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return routed{}, fmt.Errorf("route message: %w", err)
		}
		if id != "" {
			_, err := tx.ExecContext(ctx, `UPDATE tickets SET channel = $1, updated_at = $2 WHERE id = $3`, string(ev.Channel), tx.Now, id)
			return routed{ticketID: id, event: "message"}, err
		}
	}
	if category == "" {
		category = CategoryGeneral
	}
	id, err := s.createTicket(ctx, tx, ev, category, priority, StatusNew)
	return routed{ticketID: id, event: "created"}, err
}

// senderIndex is the blind index of the address a sender wrote from.
func senderIndex(index *pii.Index, a channels.Address) string {
	switch {
	case a.OpenID != "":
		return index.OpenID(a.OpenID)
	case a.Phone != "":
		return index.Phone(a.Phone)
	case a.Email != "":
		return index.Email(a.Email)
	}
	return ""
}

func (s *Service) createTicket(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, category, priority string, status Status) (string, error) {
	id := ulid.Make().String()
	firstDue, resDue := s.deadlines(tx.Now, priority)
	due := nextDue(status, nil, firstDue, resDue)
	var closedAt any
	if status == StatusClosed {
		closedAt = tx.Now
	}
	senderIdx := ""
	if ev.CustomerID == "" {
		senderIdx = senderIndex(s.cfg.Vault.Index, ev.From)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO tickets (id, customer_id, unmatched, sender_idx, status, priority, category, channel,
		first_response_due, resolution_due, sla_due, created_at, updated_at, closed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13)`,
		id, ev.CustomerID, ev.CustomerID == "", senderIdx, status, priority, category, string(ev.Channel), firstDue, resDue, due, tx.Now, closedAt)
	if err != nil {
		return "", fmt.Errorf("create ticket: %w", database.MapError(err))
	}
	return id, nil
}

// insertInbound stores the customer's message, sealed.
func (s *Service) insertInbound(ctx context.Context, tx *database.Tx, ticketID string, ev channels.InboundEvent) (string, error) {
	var dk *pii.DataKey
	if ev.CustomerID != "" {
		keys, err := s.cfg.Vault.CustomerKeys(ctx, tx, []string{ev.CustomerID})
		if err != nil {
			return "", err
		}
		dk = keys[ev.CustomerID]
	}
	id := ulid.Make().String()
	env, err := s.sealText(dk, id, ev.Text)
	if err != nil {
		return "", err
	}
	var eventID any
	if ev.ID != "" {
		eventID = ev.ID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO ticket_messages (id, ticket_id, direction, channel, key_id, key_wrapped, text_enc,
		inbound_event_id, created_at) VALUES ($1, $2, 'in', $3, $4, $5, $6, $7, $8)`,
		id, ticketID, string(ev.Channel), env.KeyID, env.Wrapped, env.Sealed, eventID, tx.Now)
	if err != nil {
		return "", fmt.Errorf("store ticket message: %w", database.MapError(err))
	}
	return id, nil
}

// recordConsentReply records decision for every purpose of the transfer,
// with the reply as evidence: the ticket message (sealed with the
// customer's key) is named in the event's evidence.
func (s *Service) recordConsentReply(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, decision, transferID, msgID string) error {
	t, err := s.transfers.FindTransferByID(ctx, transferID)
	if err != nil {
		return err
	}
	ds := make([]customers.ConsentDecision, len(t.Purposes))
	for i, p := range t.Purposes {
		ds[i] = customers.ConsentDecision{CustomerID: ev.CustomerID, TransferID: transferID, Purpose: p, Decision: decision,
			Source: customers.SourceReply, Actor: "customer:" + ev.CustomerID,
			UserAgent: "reply by " + string(ev.Channel) + " to delivery " + ev.DeliveryID + ", ticket message " + msgID}
	}
	_, err = s.cfg.Customers.RecordConsentTx(ctx, tx, ds)
	return err
}

// applyReceipt moves an outbound reply's delivery status forward.
func (s *Service) applyReceipt(ctx context.Context, ev channels.InboundEvent) error {
	status := ev.ReceiptStatus()
	if status == "" {
		return nil // a status we do not track
	}
	col, key := "id", ev.DeliveryID
	if key == "" {
		col, key = "provider_message_id", ev.ProviderMessageID
	}
	if key == "" {
		return nil
	}
	_, err := s.db.ExecContext(ctx, `UPDATE ticket_messages SET delivery_status = $1, delivery_error = $2
		WHERE `+col+` = $3 AND direction = 'out' AND delivery_status IN ('sending', 'sent')`, status, clip(ev.ErrorCode, 64), key)
	if err != nil {
		return fmt.Errorf("reply receipt: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}
