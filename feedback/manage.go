package feedback

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Update changes a ticket's working fields; nil fields stay.
type Update struct {
	Status     *Status // new | open | pending | resolved | closed
	Priority   *string
	Category   *string
	AssigneeID *string // "" unassigns
	Team       *string
	Tags       *[]string
}

// UpdateTicket applies u and audits which fields changed. A new priority
// recomputes the SLA deadlines from the ticket's creation.
func (s *Service) UpdateTicket(ctx context.Context, id string, u Update, actor string) (*Ticket, error) {
	var t *Ticket
	resolved := false
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if t, err = s.findTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.Status == StatusMerged {
			return handover.Errorf(handover.EINVALID, "This ticket was merged into %s.", t.MergedInto)
		}
		var changed []string
		if u.Status != nil && *u.Status != t.Status {
			switch *u.Status {
			case StatusNew, StatusOpen, StatusPending:
				t.ResolvedAt, t.ClosedAt = nil, nil
			case StatusResolved:
				t.ResolvedAt, t.ClosedAt, resolved = &tx.Now, nil, true
			case StatusClosed:
				t.ClosedAt = &tx.Now
			default:
				return handover.Errorf(handover.EINVALID, "status must be new, open, pending, resolved or closed (merge with the merge action)")
			}
			t.Status, changed = *u.Status, append(changed, "status="+u.Status.String())
		}
		if u.Priority != nil && *u.Priority != t.Priority {
			if err := checkPriority(*u.Priority); err != nil {
				return err
			}
			t.Priority, changed = *u.Priority, append(changed, "priority="+*u.Priority)
			t.FirstResponseDue, t.ResolutionDue = s.deadlines(t.CreatedAt, t.Priority)
		}
		if u.Category != nil && *u.Category != t.Category {
			if err := checkCategory(*u.Category); err != nil {
				return err
			}
			t.Category, changed = *u.Category, append(changed, "category="+*u.Category)
		}
		if u.AssigneeID != nil && *u.AssigneeID != t.AssigneeID {
			if *u.AssigneeID != "" {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff WHERE id = $1 AND disabled_at IS NULL`, *u.AssigneeID).Scan(&n); err != nil {
					return fmt.Errorf("check assignee: %w", err)
				}
				if n == 0 {
					return handover.Errorf(handover.EINVALID, "assignee_id names no active staff member")
				}
			}
			t.AssigneeID, changed = *u.AssigneeID, append(changed, "assignee="+*u.AssigneeID)
		}
		if u.Team != nil && *u.Team != t.Team {
			if utf8.RuneCountInString(*u.Team) > 100 {
				return handover.Errorf(handover.EINVALID, "team must be at most 100 characters")
			}
			t.Team, changed = strings.TrimSpace(*u.Team), append(changed, "team")
		}
		if u.Tags != nil {
			tags, err := cleanTags(*u.Tags)
			if err != nil {
				return err
			}
			t.Tags, changed = tags, append(changed, "tags")
		}
		if len(changed) == 0 {
			return nil
		}
		due := nextDue(t.Status, t.FirstResponseAt, t.FirstResponseDue, t.ResolutionDue)
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET status = $1, priority = $2, category = $3, assignee_id = $4, team = $5, tags = $6,
			first_response_due = $7, resolution_due = $8, sla_due = $9, resolved_at = $10, closed_at = $11, updated_at = $12 WHERE id = $13`,
			t.Status, t.Priority, t.Category, t.AssigneeID, t.Team, strings.Join(t.Tags, ","), t.FirstResponseDue, t.ResolutionDue, due,
			t.ResolvedAt, t.ClosedAt, tx.Now, t.ID)
		if err != nil {
			if handover.ErrorCode(database.MapError(err)) == handover.ECONFLICT {
				return handover.Errorf(handover.ECONFLICT, "The customer already has an open %s ticket; merge into it instead.", t.Category)
			}
			return fmt.Errorf("update ticket: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.update", ObjectType: "ticket", ObjectID: id,
			Detail: strings.Join(changed, " ")})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, TicketEvent{Type: "updated", TicketID: id, Actor: actor})
	if resolved && s.cfg.SurveyLink != nil && t.CustomerID != "" {
		s.sendSurvey(ctx, t)
	}
	return s.FindTicketByID(ctx, id)
}

func cleanTags(in []string) ([]string, error) {
	var out []string
	for _, tag := range in {
		tag = strings.TrimSpace(tag)
		if tag == "" || slices.Contains(out, tag) {
			continue
		}
		if strings.Contains(tag, ",") || utf8.RuneCountInString(tag) > 40 {
			return nil, handover.Errorf(handover.EINVALID, "a tag is at most 40 characters, without commas")
		}
		out = append(out, tag)
	}
	if len(out) > 20 {
		return nil, handover.Errorf(handover.EINVALID, "a ticket has at most 20 tags")
	}
	return out, nil
}

// AddNote adds an internal note (never sent to the customer) and audits it.
func (s *Service) AddNote(ctx context.Context, ticketID, staffID, text string) (*Message, error) {
	text = strings.TrimSpace(text)
	if text == "" || utf8.RuneCountInString(text) > maxReply {
		return nil, handover.Errorf(handover.EINVALID, "A note needs text of at most %d characters.", maxReply)
	}
	m := &Message{ID: ulid.Make().String(), TicketID: ticketID, Direction: DirectionNote, Text: text, AuthorID: staffID}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := s.findTicket(ctx, tx, ticketID); err != nil {
			return err
		}
		m.CreatedAt = tx.Now
		if err := s.insertOwn(ctx, tx, m); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET updated_at = $1 WHERE id = $2`, tx.Now, ticketID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "staff:" + staffID, Action: "ticket.note", ObjectType: "ticket", ObjectID: ticketID,
			Detail: "message=" + m.ID})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, TicketEvent{Type: "note", TicketID: ticketID, Actor: "staff:" + staffID})
	return m, nil
}

// Merge moves every message of source into target and marks source
// merged into it. Both must belong to the same customer, or source be
// unmatched (its messages then become the target customer's). The target
// keeps the higher priority and both tickets' tags.
func (s *Service) Merge(ctx context.Context, sourceID, targetID, actor string) (*Ticket, error) {
	if sourceID == targetID {
		return nil, handover.Errorf(handover.EINVALID, "A ticket cannot be merged into itself.")
	}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		src, err := s.findTicket(ctx, tx, sourceID)
		if err != nil {
			return err
		}
		dst, err := s.findTicket(ctx, tx, targetID)
		if handover.ErrorCode(err) == handover.ENOTFOUND {
			return handover.Errorf(handover.EINVALID, "The target ticket does not exist.")
		} else if err != nil {
			return err
		}
		if src.Status == StatusMerged || dst.Status == StatusMerged {
			return handover.Errorf(handover.EINVALID, "A merged ticket cannot be merged again.")
		}
		if src.CustomerID != dst.CustomerID {
			if !src.Unmatched || dst.CustomerID == "" {
				return handover.Errorf(handover.EINVALID, "Only tickets of the same customer (or an unmatched one) can be merged.")
			}
			if err := s.adoptMessages(ctx, tx, src.ID, dst.CustomerID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ticket_messages SET ticket_id = $1 WHERE ticket_id = $2`, dst.ID, src.ID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET status = 'merged', merged_into = $1, sla_due = $2, closed_at = $3, updated_at = $3
			WHERE id = $4`, dst.ID, noDeadline, tx.Now, src.ID)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		priority := dst.Priority
		if rank(src.Priority) > rank(priority) {
			priority = src.Priority
		}
		tags, _ := cleanTags(append(dst.Tags, src.Tags...))
		if len(tags) > 20 {
			tags = tags[:20]
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tickets SET priority = $1, tags = $2, updated_at = $3 WHERE id = $4`,
			priority, strings.Join(tags, ","), tx.Now, dst.ID); err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.merge", ObjectType: "ticket", ObjectID: src.ID, Detail: "into=" + dst.ID})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, TicketEvent{Type: "merged", TicketID: sourceID, Actor: actor})
	s.publish(ctx, TicketEvent{Type: "updated", TicketID: targetID, Actor: actor})
	return s.FindTicketByID(ctx, targetID)
}

func rank(priority string) int {
	return slices.Index([]string{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}, priority)
}

// LinkCustomer ties an unmatched ticket to the customer staff recognised:
// its messages and reply context are resealed with the customer's key.
// With bind, staff confirmed the proposal (ProposeBinding) to bind the
// address the sender wrote from to the customer, in the same transaction
// and audited; an address bound to another customer, or a customer with a
// different one of its kind, refuses the whole link with a clear message.
func (s *Service) LinkCustomer(ctx context.Context, ticketID, customerID, actor string, bind bool) (*Ticket, error) {
	if _, err := s.cfg.Customers.FindCustomerByID(ctx, customerID); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		t, err := s.findTicket(ctx, tx, ticketID)
		if err != nil {
			return err
		}
		if !t.Unmatched {
			return handover.Errorf(handover.EINVALID, "Only an unmatched ticket can be linked to a customer.")
		}
		rc, err := s.loadReplyContext(ctx, tx, ticketID, "")
		if err != nil {
			return err
		}
		detail := "customer=" + customerID
		if bind {
			a := bindable(rc.From)
			if a == (channels.Address{}) {
				return handover.Errorf(handover.EINVALID, "The sender's address of this ticket is not known; there is nothing to bind.")
			}
			if _, err := s.cfg.Customers.BindAddressTx(ctx, tx, customers.Binding{CustomerID: customerID, Address: a,
				Source: customers.BindSourceTicketLink, Actor: actor}); err != nil {
				return err
			}
			detail += " bound=" + addressKind(a)
		}
		if err := s.adoptMessages(ctx, tx, ticketID, customerID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE tickets SET customer_id = $1, unmatched = FALSE, sender_idx = '', updated_at = $2 WHERE id = $3`,
			customerID, tx.Now, ticketID)
		if handover.ErrorCode(database.MapError(err)) == handover.ECONFLICT {
			return handover.Errorf(handover.ECONFLICT, "The customer already has an open %s ticket; merge this one into it.", t.Category)
		} else if err != nil {
			return fmt.Errorf("link ticket: %w", err)
		}
		// The customer's record is where replies go from now on.
		rc.From = channels.Address{}
		if err := s.saveReplyContext(ctx, tx, ticketID, customerID, rc); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.link", ObjectType: "ticket", ObjectID: ticketID, Detail: detail})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, TicketEvent{Type: "linked", TicketID: ticketID, Actor: actor})
	return s.FindTicketByID(ctx, ticketID)
}

// adoptMessages reseals a ticket's envelope-sealed messages with the
// customer's key.
func (s *Service) adoptMessages(ctx context.Context, tx *database.Tx, ticketID, customerID string) error {
	keys, err := s.cfg.Vault.CustomerKeys(ctx, tx, []string{customerID})
	if err != nil {
		return err
	}
	dk := keys[customerID]
	if dk == nil {
		return handover.Errorf(handover.EINVALID, "The customer was erased.")
	}
	type sealed struct {
		id  string
		env pii.Envelope
	}
	list, err := database.QueryAll(ctx, tx, func(row database.Scanner) (sealed, error) {
		var m sealed
		err := row.Scan(&m.id, &m.env.KeyID, &m.env.Wrapped, &m.env.Sealed)
		return m, err
	}, `SELECT id, key_id, key_wrapped, text_enc FROM ticket_messages WHERE ticket_id = $1 AND key_id <> ''`, ticketID)
	if err != nil {
		return fmt.Errorf("adopt messages: %w", err)
	}
	for _, m := range list {
		text, err := s.openText(nil, m.id, m.env)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE ticket_messages SET key_id = '', key_wrapped = '', text_enc = $1 WHERE id = $2`,
			dk.Seal(text, messageContext(m.id)), m.id)
		if err != nil {
			return fmt.Errorf("adopt messages: %w", err)
		}
	}
	return nil
}
