package transfers

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/database"
)

// FindTransfers lists transfers, newest first (at most 200): what the
// dashboard offers when a campaign is created. Only ids, parties and date.
func (s *Store) FindTransfers(ctx context.Context) ([]*Transfer, error) {
	ids, err := database.QueryAll(ctx, s.db, database.ScanString, `SELECT id FROM transfers ORDER BY id DESC LIMIT 200`)
	if err != nil {
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
