package campaigns

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/handoverhq/handover/database"
)

// Timeline is a campaign's activity over time: per bucket of Step from
// Start, how many messages were sent, confirmed delivered, opened (first
// opening of a personal link) and consented from (a grant on a link).
type Timeline struct {
	Start time.Time
	Step  time.Duration
	// Series in the order sent, delivered, opened, consented; each has
	// one count per bucket.
	Sent, Delivered, Opened, Consented []int
}

// TimelineSeries names the timeline's series in order.
var TimelineSeries = []string{"sent", "delivered", "opened", "consented"}

// timelineSteps are the bucket widths tried, smallest first, until the
// campaign's span fits in at most maxBuckets of them.
var timelineSteps = []time.Duration{time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour}

const maxBuckets = 60

// Timeline reads the times of the campaign's sends, delivery receipts,
// first link openings and grants, and counts them per bucket. A delivery
// receipt's time is its row's last update.
func (s *Service) Timeline(ctx context.Context, id string) (*Timeline, error) {
	queries := []string{
		`SELECT sent_at FROM deliveries WHERE campaign_id = $1 AND sent_at IS NOT NULL`,
		`SELECT updated_at FROM deliveries WHERE campaign_id = $1 AND status = 'delivered'`,
		`SELECT first_opened_at FROM links WHERE campaign_id = $1 AND first_opened_at IS NOT NULL`,
		`SELECT MIN(e.created_at) FROM consent_events e JOIN links l ON l.id = e.link_id
			WHERE l.campaign_id = $1 AND e.decision = 'granted' GROUP BY l.id`,
	}
	times := make([][]time.Time, len(queries))
	var first, last time.Time
	for i, q := range queries {
		err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
			var t sql.NullTime
			if err := row.Scan(&t); err != nil {
				return err
			}
			if !t.Valid {
				return nil
			}
			times[i] = append(times[i], t.Time.UTC())
			if first.IsZero() || t.Time.Before(first) {
				first = t.Time.UTC()
			}
			if t.Time.After(last) {
				last = t.Time.UTC()
			}
			return nil
		}, q, id)
		if err != nil {
			return nil, fmt.Errorf("campaign timeline: %w", err)
		}
	}
	tl := &Timeline{Step: timelineSteps[len(timelineSteps)-1]}
	if first.IsZero() {
		return tl, nil
	}
	for _, step := range timelineSteps {
		if last.Sub(first.Truncate(step)) < time.Duration(maxBuckets)*step {
			tl.Step = step
			break
		}
	}
	tl.Start = first.Truncate(tl.Step)
	n := min(maxBuckets, int(last.Sub(tl.Start)/tl.Step)+1)
	series := []*[]int{&tl.Sent, &tl.Delivered, &tl.Opened, &tl.Consented}
	for i, list := range times {
		counts := make([]int, n)
		for _, t := range list {
			counts[min(n-1, int(t.Sub(tl.Start)/tl.Step))]++
		}
		*series[i] = counts
	}
	return tl, nil
}
