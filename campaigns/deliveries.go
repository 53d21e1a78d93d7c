package campaigns

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// Delivery statuses.
var DeliveryStatuses = []channels.DeliveryStatus{channels.StatusPlanned, channels.StatusQueued, channels.StatusSent, channels.StatusDelivered,
	channels.StatusFailed, channels.StatusBounced, channels.StatusSkipped, channels.StatusSuppressed}

// Delivery is one recipient of a campaign. It holds no personal data.
type Delivery struct {
	ID              string
	CampaignID      string
	CustomerID      string
	Channel         string
	TemplateID      string
	TemplateVersion int
	Status          channels.DeliveryStatus
	SkipReason      SkipReason
	Attempts        int
	ProviderID      string
	Error           string
	SentAt          *time.Time
	UpdatedAt       time.Time
}

// DeliveryFilter selects a page of a campaign's deliveries.
type DeliveryFilter struct {
	CampaignID string
	Status     channels.DeliveryStatus // "" for all
	Cursor     string                  // the nextCursor of the previous page
	Limit      int                     // default 100, at most 500
}

// FindDeliveries lists a campaign's deliveries in id order; nextCursor is
// "" after the last page.
func (s *Service) FindDeliveries(ctx context.Context, f DeliveryFilter) (list []*Delivery, nextCursor string, err error) {
	if f.Status != "" {
		ok := false
		for _, st := range DeliveryStatuses {
			ok = ok || st == f.Status
		}
		if !ok {
			return nil, "", handover.Errorf(handover.EINVALID, "status is not a delivery status")
		}
	}
	if f.Cursor != "" {
		if _, err := ulid.ParseStrict(f.Cursor); err != nil {
			return nil, "", handover.Errorf(handover.EINVALID, "cursor is not valid")
		}
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 500)
	list, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (*Delivery, error) {
		var d Delivery
		var sent sql.NullTime
		if err := row.Scan(&d.ID, &d.CampaignID, &d.CustomerID, &d.Channel, &d.TemplateID, &d.TemplateVersion, &d.Status,
			&d.SkipReason, &d.Attempts, &d.ProviderID, &d.Error, &sent, &d.UpdatedAt); err != nil {
			return nil, err
		}
		d.SentAt, d.UpdatedAt = timePtr(sent), d.UpdatedAt.UTC()
		return &d, nil
	}, `SELECT id, campaign_id, customer_id, channel, template_id, template_version, status,
		skip_reason, attempts, provider_id, error, sent_at, updated_at FROM deliveries
		WHERE campaign_id = $1 AND ($2 = '' OR status = $2) AND id > $3 ORDER BY id LIMIT `+fmt.Sprint(limit+1),
		f.CampaignID, f.Status, f.Cursor)
	if err != nil {
		return nil, "", fmt.Errorf("find deliveries: %w", err)
	}
	list, nextCursor = database.Page(list, limit, func(d *Delivery) string { return d.ID })
	return list, nextCursor, nil
}
