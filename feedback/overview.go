package feedback

import (
	"context"
	"fmt"
	"strings"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// CountCap is where the queue's counts stop: a navigation shows "999+"
// rather than pay for counting a hundred thousand open tickets on every
// page and every live update.
const CountCap = 1000

// Counts are the open tickets (new, open, pending) counted the ways the
// queue's navigation shows them; each is exact below CountCap and
// CountCap from there on (CountText shows "999+").
type Counts struct {
	Open       int
	Mine       int // assigned to the staff member asked about
	Unassigned int
	Breached   int
	// ByCategory and ByChannel count among the CountCap most urgent open
	// tickets: exact while Open is below the cap.
	ByCategory map[string]int
	ByChannel  map[string]int
}

// CountText is a count as the navigation shows it.
func CountText(n int) string {
	if n >= CountCap {
		return fmt.Sprintf("%d+", CountCap-1)
	}
	return fmt.Sprint(n)
}

// Counts counts the open tickets, Mine being staffID's. Every count walks
// an index and stops at CountCap, so its cost does not grow with the
// backlog.
func (s *Service) Counts(ctx context.Context, staffID string) (*Counts, error) {
	now := s.db.Now()
	c := &Counts{ByCategory: map[string]int{}, ByChannel: map[string]int{}}
	capped := func(where string, args ...any) (int, error) {
		var n int
		// ORDER BY sla_due keeps PostgreSQL's generic plan (pgx prepares
		// statements) on the deadline indexes instead of a heap scan.
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE `+where+
			fmt.Sprintf(` ORDER BY sla_due LIMIT %d) t`, CountCap), args...).Scan(&n)
		if err != nil {
			return 0, fmt.Errorf("count tickets: %w", err)
		}
		return n, nil
	}
	var err error
	if c.Open, err = capped(`sla_due < $1`, noDeadline); err != nil {
		return nil, err
	}
	if staffID != "" {
		if c.Mine, err = capped(`assignee_id = $1 AND sla_due < $2`, staffID, noDeadline); err != nil {
			return nil, err
		}
	}
	if c.Unassigned, err = capped(`assignee_id = '' AND sla_due < $1`, noDeadline); err != nil {
		return nil, err
	}
	// Breached: a deadline passed (sla_due < now), or was flagged passed
	// before the next deadline was set (the partial breached index).
	overdue, err := capped(`sla_due < $1`, now)
	if err != nil {
		return nil, err
	}
	flagged, err := capped(`breached AND sla_due >= $1 AND sla_due < $2`, now, noDeadline)
	if err != nil {
		return nil, err
	}
	c.Breached = min(overdue+flagged, CountCap)
	err = database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var category, channel string
		var n int
		if err := row.Scan(&category, &channel, &n); err != nil {
			return err
		}
		c.ByCategory[category] += n
		c.ByChannel[channel] += n
		return nil
	}, `SELECT category, channel, COUNT(*) FROM (SELECT category, channel FROM tickets
		WHERE sla_due < $1 ORDER BY sla_due LIMIT `+fmt.Sprint(CountCap)+`) t GROUP BY category, channel`, noDeadline)
	if err != nil {
		return nil, fmt.Errorf("count tickets: %w", err)
	}
	return c, nil
}

// previewLength is how much of a message a queue row shows.
const previewLength = 80

// Previews returns, per ticket, the first line of the customer's latest
// message (at most 80 characters) for a queue page, and audits that
// staff member actor saw them (ticket.preview, one entry per page).
// Tickets without a readable message are absent.
func (s *Service) Previews(ctx context.Context, ticketIDs []string, actor string) (map[string]string, error) {
	out := map[string]string{}
	if len(ticketIDs) == 0 {
		return out, nil
	}
	if len(ticketIDs) > 200 {
		ticketIDs = ticketIDs[:200]
	}
	in, args := database.In(nil, ticketIDs)
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		type latest struct {
			msgID, customerID string
			env               pii.Envelope
		}
		byTicket := map[string]latest{}
		var customerIDs []string
		err := database.EachRow(ctx, tx, func(row database.Scanner) error {
			var l latest
			var ticketID string
			if err := row.Scan(&l.msgID, &ticketID, &l.customerID, &l.env.KeyID, &l.env.Wrapped, &l.env.Sealed); err != nil {
				return err
			}
			if _, seen := byTicket[ticketID]; seen {
				return nil // an older message of the same ticket
			}
			byTicket[ticketID] = l
			if l.customerID != "" {
				customerIDs = append(customerIDs, l.customerID)
			}
			return nil
		}, `SELECT m.id, m.ticket_id, t.customer_id, m.key_id, m.key_wrapped, m.text_enc
			FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id
			WHERE m.ticket_id IN `+in+` AND m.direction = 'in' ORDER BY m.ticket_id, m.created_at DESC, m.id DESC`, args...)
		if err != nil {
			return fmt.Errorf("previews: %w", err)
		}
		keys, err := s.cfg.Vault.CustomerKeys(ctx, tx, customerIDs)
		if err != nil {
			return err
		}
		for ticketID, l := range byTicket {
			text, err := s.openText(keys[l.customerID], l.msgID, l.env)
			if err != nil {
				return err
			}
			if line, _, _ := strings.Cut(strings.TrimSpace(text), "\n"); line != "" {
				out[ticketID] = clip(line, previewLength)
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket.preview", ObjectType: "ticket",
			ObjectID: ticketIDs[0], Detail: "tickets=" + strings.Join(ticketIDs, ",")})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
