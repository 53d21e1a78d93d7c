package links

import (
	"context"
	"fmt"
	"time"

	"github.com/handoverhq/handover/database"
)

// OpenedCampaigns returns, per campaign, when the customer first opened
// the link of its message: what the ticket page's customer panel shows
// next to the messages they got. It reads the partial index of opened
// links only (links_customer_opened).
func (s *Store) OpenedCampaigns(ctx context.Context, customerID string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var id string
		var at time.Time
		if err := row.Scan(&id, &at); err != nil {
			return err
		}
		if prev, ok := out[id]; !ok || at.Before(prev) {
			out[id] = at.UTC()
		}
		return nil
	}, `SELECT campaign_id, first_opened_at FROM links
		WHERE customer_id = $1 AND first_opened_at IS NOT NULL AND campaign_id <> ''`, customerID)
	if err != nil {
		return nil, fmt.Errorf("opened links: %w", err)
	}
	return out, nil
}
