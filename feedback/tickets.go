package feedback

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

const ticketColumns = `id, customer_id, unmatched, status, priority, category, assignee_id, team, tags, channel, merged_into,
	first_response_due, resolution_due, first_response_at, sla_due, breached, created_at, updated_at, resolved_at, closed_at`

func scanTicket(row database.Scanner) (*Ticket, error) {
	var t Ticket
	var tags, channel string
	var firstAt, resolvedAt, closedAt sql.NullTime
	var due time.Time
	err := row.Scan(&t.ID, &t.CustomerID, &t.Unmatched, &t.Status, &t.Priority, &t.Category, &t.AssigneeID, &t.Team, &tags, &channel,
		&t.MergedInto, &t.FirstResponseDue, &t.ResolutionDue, &firstAt, &due, &t.Breached, &t.CreatedAt, &t.UpdatedAt, &resolvedAt, &closedAt)
	if err != nil {
		return nil, err
	}
	if tags != "" {
		t.Tags = strings.Split(tags, ",")
	}
	t.Channel = channels.Name(channel)
	t.FirstResponseDue, t.ResolutionDue = t.FirstResponseDue.UTC(), t.ResolutionDue.UTC()
	t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
	t.FirstResponseAt, t.ResolvedAt, t.ClosedAt = nullTime(firstAt), nullTime(resolvedAt), nullTime(closedAt)
	if due = due.UTC(); due.Before(noDeadline) {
		t.SLADue = &due
	}
	return &t, nil
}

func nullTime(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

// onRead sets the breached flag of a ticket whose deadline passed since
// the periodic check last ran.
func (t *Ticket) onRead(now time.Time) {
	if t.IsOpen() && t.SLADue != nil && t.SLADue.Before(now) {
		t.Breached = true
	}
}

func (s *Service) findTicket(ctx context.Context, q database.Querier, id string) (*Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Ticket not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find ticket: %w", err)
	}
	t.onRead(s.db.Now())
	return t, nil
}

// FindTicketByID returns the ticket without its messages (nothing personal).
func (s *Service) FindTicketByID(ctx context.Context, id string) (*Ticket, error) {
	return s.findTicket(ctx, s.db, id)
}

// ViewTicket returns the ticket with its messages opened, for the staff
// member actor ("staff:ID"), and audits the read (ticket.read).
func (s *Service) ViewTicket(ctx context.Context, id, actor string) (*Ticket, error) {
	var t *Ticket
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if t, err = s.findTicket(ctx, tx, id); err != nil {
			return err
		}
		if t.Messages, err = s.messages(ctx, tx, t); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.read", ObjectType: "ticket", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// messages loads and opens a ticket's messages, oldest first. Text sealed
// with an erased customer's key reads as "".
func (s *Service) messages(ctx context.Context, q database.Querier, t *Ticket) ([]Message, error) {
	type sealed struct {
		m   Message
		env pii.Envelope
	}
	list, err := database.QueryAll(ctx, q, func(row database.Scanner) (sealed, error) {
		m := Message{TicketID: t.ID}
		var env pii.Envelope
		var channel string
		err := row.Scan(&m.ID, &m.Direction, &channel, &env.KeyID, &env.Wrapped, &env.Sealed, &m.ProviderMessageID, &m.DeliveryStatus,
			&m.DeliveryError, &m.ChannelReason, &m.AuthorID, &m.CreatedAt)
		m.Channel, m.CreatedAt = channels.Name(channel), m.CreatedAt.UTC()
		return sealed{m, env}, err
	}, `SELECT id, direction, channel, key_id, key_wrapped, text_enc, provider_message_id, delivery_status,
		delivery_error, channel_reason, author_id, created_at FROM ticket_messages WHERE ticket_id = $1 ORDER BY created_at, id`, t.ID)
	if err != nil {
		return nil, fmt.Errorf("ticket messages: %w", err)
	}
	var out []Message
	var envs []pii.Envelope
	for _, r := range list {
		out, envs = append(out, r.m), append(envs, r.env)
	}
	var dk *pii.DataKey
	if t.CustomerID != "" {
		keys, err := s.cfg.Vault.CustomerKeys(ctx, q, []string{t.CustomerID})
		if err != nil {
			return nil, err
		}
		dk = keys[t.CustomerID]
	}
	for i := range out {
		if out[i].Text, err = s.openText(dk, out[i].ID, envs[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func messageContext(id string) string { return "ticket-message/" + id }

// sealText seals a message's text: with the customer's key when dk is not
// nil, else in an envelope of its own (an unknown sender).
func (s *Service) sealText(dk *pii.DataKey, msgID, text string) (pii.Envelope, error) {
	if dk != nil {
		return pii.Envelope{Sealed: dk.Seal(text, messageContext(msgID))}, nil
	}
	return s.cfg.Vault.Keys.SealEnvelope(text, messageContext(msgID))
}

func (s *Service) openText(dk *pii.DataKey, msgID string, env pii.Envelope) (string, error) {
	if env.KeyID != "" {
		var text string
		if err := s.cfg.Vault.Keys.OpenEnvelope(env, messageContext(msgID), &text); err != nil {
			return "", fmt.Errorf("open ticket message %s: %w", msgID, err)
		}
		return text, nil
	}
	if dk == nil {
		return "", nil // the customer was erased
	}
	text, err := dk.Open(env.Sealed, messageContext(msgID))
	if err != nil {
		return "", fmt.Errorf("open ticket message %s: %w", msgID, err)
	}
	return text, nil
}

// Filter selects tickets for FindTickets.
type Filter struct {
	Status     Status // one status; "" means new, open and pending
	AssigneeID string
	Unassigned bool
	Channel    string
	Category   string
	CustomerID string
	// CustomerIDs, when not nil, keeps the tickets of these customers
	// (a search by phone, email or name): none when empty. At most 200.
	CustomerIDs []string
	// CreatedFrom and CreatedBefore bound when the ticket was opened
	// (zero: unbounded).
	CreatedFrom, CreatedBefore time.Time
	Breached                   bool // only breached tickets
	// Sort is "sla" (default: nearest deadline first) or "created"
	// (newest first).
	Sort   string
	Cursor string // the next cursor of the previous page
	Limit  int    // default 50, at most 200
}

// FindTickets lists tickets for the queue (no message text). nextCursor
// is "" after the last page.
func (s *Service) FindTickets(ctx context.Context, f Filter) (list []*Ticket, nextCursor string, err error) {
	now := s.db.Now()
	where, args := []string{"1 = 1"}, []any{}
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.Status == "" {
		// The open tickets: only they have a deadline (see nextDue).
		where = append(where, "sla_due < "+arg(noDeadline))
	} else {
		switch f.Status {
		case StatusNew, StatusOpen, StatusPending, StatusResolved, StatusClosed, StatusMerged:
		default:
			return nil, "", handover.Errorf(handover.EINVALID, "status must be new, open, pending, resolved, closed or merged")
		}
		where = append(where, "status = "+arg(f.Status))
	}
	if f.Unassigned {
		where = append(where, "assignee_id = ''")
	} else if f.AssigneeID != "" {
		where = append(where, "assignee_id = "+arg(f.AssigneeID))
	}
	for _, c := range []struct{ col, v string }{{"channel", f.Channel}, {"category", f.Category}, {"customer_id", f.CustomerID}} {
		if c.v != "" {
			where = append(where, c.col+" = "+arg(c.v))
		}
	}
	if f.CustomerIDs != nil {
		if len(f.CustomerIDs) == 0 {
			return nil, "", nil
		}
		var in string
		in, args = database.In(args, f.CustomerIDs[:min(len(f.CustomerIDs), 200)])
		where = append(where, "customer_id IN "+in)
	}
	if !f.CreatedFrom.IsZero() {
		where = append(where, "created_at >= "+arg(f.CreatedFrom.UTC()))
	}
	if !f.CreatedBefore.IsZero() {
		where = append(where, "created_at < "+arg(f.CreatedBefore.UTC()))
	}
	if f.Breached {
		where = append(where, "(breached OR (status IN ('new', 'open', 'pending') AND sla_due < "+arg(now)+"))")
	}
	order := "sla_due, id"
	switch f.Sort {
	case "", "sla":
		if f.Cursor != "" {
			due, id, err := parseCursor(f.Cursor)
			if err != nil {
				return nil, "", err
			}
			d, i := arg(due), arg(id)
			where = append(where, "(sla_due > "+d+" OR (sla_due = "+d+" AND id > "+i+"))")
		}
	case "created":
		order = "id DESC"
		if f.Cursor != "" {
			where = append(where, "id < "+arg(f.Cursor))
		}
	default:
		return nil, "", handover.Errorf(handover.EINVALID, "sort must be sla or created")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	list, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (*Ticket, error) {
		t, err := scanTicket(row)
		if err != nil {
			return nil, err
		}
		t.onRead(now)
		return t, nil
	}, `SELECT `+ticketColumns+` FROM tickets WHERE `+strings.Join(where, " AND ")+
		` ORDER BY `+order+fmt.Sprintf(` LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("find tickets: %w", err)
	}
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		if f.Sort == "created" {
			nextCursor = last.ID
		} else {
			due := noDeadline
			if last.SLADue != nil {
				due = *last.SLADue
			}
			nextCursor = base64.RawURLEncoding.EncodeToString([]byte(due.Format(time.RFC3339Nano) + "|" + last.ID))
		}
	}
	return list, nextCursor, nil
}

func parseCursor(c string) (time.Time, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if due, id, ok := strings.Cut(string(b), "|"); ok {
			if t, err := time.Parse(time.RFC3339Nano, due); err == nil && id != "" {
				return t.UTC(), id, nil
			}
		}
	}
	return time.Time{}, "", handover.Errorf(handover.EINVALID, "cursor is not valid")
}
