package feedback

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
)

// SavedFilter is a queue filter a staff member named and kept: the
// queue's query string.
type SavedFilter struct {
	ID, StaffID, Name, Query string
}

// Limits of saved filters.
const (
	maxFilters      = 30
	maxFilterName   = 60
	maxFilterQuery  = 1000
	filterNameLimit = "A filter's name is 1 to 60 characters."
)

// SaveFilter keeps query under name for staffID; the same name again
// replaces the query. The caller strips what must not be kept (a
// customer's phone, email or name).
func (s *Service) SaveFilter(ctx context.Context, staffID, name, query string) (*SavedFilter, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > maxFilterName {
		return nil, handover.Errorf(handover.EINVALID, filterNameLimit)
	}
	if len(query) > maxFilterQuery {
		return nil, handover.Errorf(handover.EINVALID, "The filter is too long to keep.")
	}
	f := &SavedFilter{ID: ulid.Make().String(), StaffID: staffID, Name: name, Query: query}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ticket_filters SET query = $1 WHERE staff_id = $2 AND name = $3`, query, staffID, name)
		if err != nil {
			return fmt.Errorf("save filter: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return tx.QueryRowContext(ctx, `SELECT id FROM ticket_filters WHERE staff_id = $1 AND name = $2`, staffID, name).Scan(&f.ID)
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_filters WHERE staff_id = $1`, staffID).Scan(&n); err != nil {
			return fmt.Errorf("save filter: %w", err)
		}
		if n >= maxFilters {
			return handover.Errorf(handover.EINVALID, "You keep %d filters already; delete one first.", maxFilters)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO ticket_filters (id, staff_id, name, query, created_at) VALUES ($1, $2, $3, $4, $5)`,
			f.ID, staffID, name, query, tx.Now)
		if err != nil {
			return fmt.Errorf("save filter: %w", database.MapError(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// SavedFilters lists staffID's filters by name.
func (s *Service) SavedFilters(ctx context.Context, staffID string) ([]SavedFilter, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (SavedFilter, error) {
		f := SavedFilter{StaffID: staffID}
		err := row.Scan(&f.ID, &f.Name, &f.Query)
		return f, err
	}, `SELECT id, name, query FROM ticket_filters WHERE staff_id = $1 ORDER BY name`, staffID)
	if err != nil {
		return nil, fmt.Errorf("saved filters: %w", err)
	}
	return out, nil
}

// DeleteFilter deletes one of staffID's filters; another's is not found.
func (s *Service) DeleteFilter(ctx context.Context, staffID, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM ticket_filters WHERE id = $1 AND staff_id = $2`, id, staffID)
	if err != nil {
		return fmt.Errorf("delete filter: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return handover.Errorf(handover.ENOTFOUND, "Filter not found.")
	}
	return nil
}
