package campaigns

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// CustomerDelivery is one message of a campaign to one customer, as the
// customer's page lists it.
type CustomerDelivery struct {
	CampaignID   string
	CampaignName string
	Channel      string
	Status       channels.DeliveryStatus
	SkipReason   SkipReason
	SentAt       *time.Time
	UpdatedAt    time.Time
}

// FindCustomerDeliveries lists the customer's newest deliveries across
// campaigns (at most limit, default 50), through the customer index.
func (s *Service) FindCustomerDeliveries(ctx context.Context, customerID string, limit int) ([]CustomerDelivery, error) {
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (CustomerDelivery, error) {
		var d CustomerDelivery
		var sent sql.NullTime
		err := row.Scan(&d.CampaignID, &d.CampaignName, &d.Channel, &d.Status, &d.SkipReason, &sent, &d.UpdatedAt)
		if sent.Valid {
			d.SentAt = &sent.Time
		}
		return d, err
	}, `SELECT d.campaign_id, c.name, d.channel, d.status, d.skip_reason, d.sent_at, d.updated_at
		FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE d.customer_id = $1
		ORDER BY d.updated_at DESC, d.id DESC LIMIT `+fmt.Sprint(limit), customerID)
	if err != nil {
		return nil, fmt.Errorf("customer deliveries: %w", err)
	}
	return out, nil
}
