package links

import (
	"context"
	"fmt"
	"time"
)

// OpenedCampaigns returns, per campaign, when the customer first opened
// the link of its message: what the ticket page's customer panel shows
// next to the messages they got. It reads the partial index of opened
// links only (links_customer_opened).
func (s *Store) OpenedCampaigns(ctx context.Context, customerID string) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT campaign_id, first_opened_at FROM links
		WHERE customer_id = $1 AND first_opened_at IS NOT NULL AND campaign_id <> ''`, customerID)
	if err != nil {
		return nil, fmt.Errorf("opened links: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var id string
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("opened links: %w", err)
		}
		if prev, ok := out[id]; !ok || at.Before(prev) {
			out[id] = at.UTC()
		}
	}
	return out, rows.Err()
}
