package transfers

import (
	"context"
	"fmt"
)

// FindTransfers lists transfers, newest first (at most 200): what the
// dashboard offers when a campaign is created. Only ids, parties and date.
func (s *Store) FindTransfers(ctx context.Context) ([]*Transfer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM transfers ORDER BY id DESC LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("find transfers: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("find transfers: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find transfers: %w", err)
	}
	out := make([]*Transfer, 0, len(ids))
	for _, id := range ids {
		t, err := s.FindTransferByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
