package feedback

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// CannedReply is a saved reply staff pick from. Its body may use the
// variables {{customer_name}}, {{company}} and {{ticket_id}}, filled in
// when the reply is sent.
type CannedReply struct {
	ID        string
	Name      string
	Body      string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Variables lists what a reply's text may contain, filled in at sending.
var Variables = []string{"{{customer_name}}", "{{company}}", "{{ticket_id}}"}

// expand fills a reply's variables for customer c on ticket t.
func expand(text string, c *customers.Customer, t *Ticket) string {
	if !strings.Contains(text, "{{") {
		return text
	}
	return strings.NewReplacer("{{customer_name}}", c.Name, "{{company}}", c.Company, "{{ticket_id}}", t.ID).Replace(text)
}

// FindCannedReplies lists canned replies by name.
func (s *Service) FindCannedReplies(ctx context.Context) ([]CannedReply, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (CannedReply, error) {
		var c CannedReply
		err := row.Scan(&c.ID, &c.Name, &c.Body, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt)
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		return c, err
	}, `SELECT id, name, body, created_by, created_at, updated_at FROM canned_replies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("find canned replies: %w", err)
	}
	return out, nil
}

// FindCannedReplyByID returns one canned reply.
func (s *Service) FindCannedReplyByID(ctx context.Context, id string) (*CannedReply, error) {
	var c CannedReply
	err := s.db.QueryRowContext(ctx, `SELECT id, name, body, created_by, created_at, updated_at FROM canned_replies WHERE id = $1`, id).
		Scan(&c.ID, &c.Name, &c.Body, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Canned reply not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("find canned reply: %w", err)
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// SaveCannedReply creates c (ID "") or replaces the one with c.ID, and
// audits it.
func (s *Service) SaveCannedReply(ctx context.Context, c *CannedReply, actor string) error {
	c.Name, c.Body = strings.TrimSpace(c.Name), strings.TrimSpace(c.Body)
	if c.Name == "" || utf8.RuneCountInString(c.Name) > 100 {
		return handover.Errorf(handover.EINVALID, "name is required (at most 100 characters)")
	}
	if c.Body == "" || utf8.RuneCountInString(c.Body) > maxReply {
		return handover.Errorf(handover.EINVALID, "body is required (at most %d characters)", maxReply)
	}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		action := "canned_reply.update"
		c.UpdatedAt = tx.Now
		if c.ID == "" {
			c.ID, c.CreatedBy, c.CreatedAt, action = ulid.Make().String(), actor, tx.Now, "canned_reply.create"
			if _, err := tx.ExecContext(ctx, `INSERT INTO canned_replies (id, name, body, created_by, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $5)`, c.ID, c.Name, c.Body, c.CreatedBy, tx.Now); err != nil {
				return err
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE canned_replies SET name = $1, body = $2, updated_at = $3 WHERE id = $4`, c.Name, c.Body, tx.Now, c.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return handover.Errorf(handover.ENOTFOUND, "Canned reply not found.")
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "canned_reply", ObjectID: c.ID})
	})
	if handover.ErrorCode(err) == handover.ECONFLICT {
		return handover.Errorf(handover.ECONFLICT, "A canned reply with this name exists.")
	}
	return err
}

// DeleteCannedReply deletes a canned reply and audits it.
func (s *Service) DeleteCannedReply(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM canned_replies WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete canned reply: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Canned reply not found.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "canned_reply.delete", ObjectType: "canned_reply", ObjectID: id})
	})
}
