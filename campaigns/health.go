package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/handoverhq/handover/database"
)

// Reasons a running campaign makes no progress (Health.Stalled).
const (
	StalledPlanning   = "planning_stalled" // no planning step for a lease; Recover hands it on
	StalledWorkerLost = "worker_lost"      // batches whose worker stopped renewing its lease
	StalledQuietHours = "quiet_hours"      // sends wait for the quiet hours to end
	StalledNoWorker   = "no_worker"        // rows queued and no live worker serves the campaign's channel queues
)

// Health is how a campaign's sending stands beyond its counts: what
// workers hold, what is unknown, what may have gone out twice, and, for a
// running campaign that makes no progress, why.
type Health struct {
	// LeasedBatches are the batches a live worker holds, until LeasedUntil
	// at the latest (nil when none).
	LeasedBatches int        `json:"leased_batches"`
	LeasedUntil   *time.Time `json:"leased_until,omitempty"`
	// ExpiredBatches are held by a worker that stopped renewing them;
	// UnknownOutcome counts their queued rows, which it may have sent.
	ExpiredBatches int `json:"expired_batches"`
	UnknownOutcome int `json:"unknown_outcome"`
	// DuplicatesSuspected counts rows sent again after a takeover found
	// them queued: an upper bound on the campaign's duplicates.
	DuplicatesSuspected int `json:"duplicates_suspected"`
	// Stalled is why a running campaign makes no progress (Stalled*), ""
	// while it does; StalledUntil is when a quiet-hours hold ends.
	Stalled      string     `json:"stalled,omitempty"`
	StalledUntil *time.Time `json:"stalled_until,omitempty"`
}

// Health reads campaign c's Health: its batch leases (few rows: a lease is
// given back when its batch is recorded) and, only when one expired, the
// rows left under it.
func (s *Service) Health(ctx context.Context, c *Campaign) (Health, error) {
	var h Health
	now := s.db.Now()
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var until time.Time
		if err := row.Scan(&until); err != nil {
			return err
		}
		if until.Before(now) {
			h.ExpiredBatches++
			return nil
		}
		h.LeasedBatches++
		if h.LeasedUntil == nil || until.After(*h.LeasedUntil) {
			u := until
			h.LeasedUntil = &u
		}
		return nil
	}, `SELECT lease_until FROM campaign_batches WHERE campaign_id = $1 AND lease_until IS NOT NULL`, c.ID)
	if err != nil {
		return h, fmt.Errorf("campaign health: %w", err)
	}
	var suspect int64
	if err := s.db.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(suspect), 0) AS BIGINT) FROM campaign_batches WHERE campaign_id = $1`,
		c.ID).Scan(&suspect); err != nil {
		return h, fmt.Errorf("campaign health: %w", err)
	}
	h.DuplicatesSuspected = int(suspect)
	if h.ExpiredBatches > 0 {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries d JOIN campaign_batches b ON b.campaign_id = d.campaign_id
			AND b.batch = d.batch WHERE b.campaign_id = $1 AND b.lease_until < $2 AND d.status = 'queued'`, c.ID, now).Scan(&n); err != nil {
			return h, fmt.Errorf("campaign health: %w", err)
		}
		h.UnknownOutcome = int(n)
	}
	if c.Status == StatusRunning {
		if err := s.stalled(ctx, c, now, &h); err != nil {
			return h, err
		}
	}
	return h, nil
}

// stalled sets h.Stalled for running campaign c.
func (s *Service) stalled(ctx context.Context, c *Campaign, now time.Time, h *Health) error {
	switch {
	case c.PlannedAt == nil && c.UpdatedAt.Before(now.Add(-s.cfg.Lease)):
		h.Stalled = StalledPlanning
		return nil
	case h.ExpiredBatches > 0:
		h.Stalled = StalledWorkerLost
		return nil
	case h.LeasedBatches > 0 || c.PlannedAt == nil:
		return nil
	}
	if until := c.holdUntil(now, c.TimeZone); !until.IsZero() {
		h.Stalled, h.StalledUntil = StalledQuietHours, &until
		return nil
	}
	// Rows queued, none held: is any worker serving the campaign's queues?
	var one int
	err := s.db.QueryRowContext(ctx, lastQueued("$1"), c.ID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("campaign health: %w", err)
	}
	if s.cfg.Queue == nil || s.cfg.Queue.Inspector == nil {
		return nil
	}
	servers, err := s.cfg.Queue.Inspector.Servers()
	if err != nil {
		return nil // Redis is down: the worker's own problem shows elsewhere
	}
	for _, srv := range servers {
		for _, ch := range c.Channels {
			if _, ok := srv.Queues[QueueName(ch)]; ok {
				return nil
			}
		}
	}
	h.Stalled = StalledNoWorker
	return nil
}

// Totals are the recovery figures of every running campaign, for metrics.
type Totals struct {
	LeasedBatches, ExpiredBatches, UnknownOutcome, DuplicatesSuspected int
}

// HealthTotals sums Health over running campaigns, and the suspected
// duplicates over all campaigns (a count that only grows).
func (s *Service) HealthTotals(ctx context.Context) (Totals, error) {
	var t Totals
	now := s.db.Now()
	var leased, expired, unknown, suspect int64
	err := s.db.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
			WHERE c.status = 'running' AND b.lease_until >= $1),
		(SELECT COUNT(*) FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
			WHERE c.status = 'running' AND b.lease_until < $1),
		(SELECT COUNT(*) FROM campaign_batches b JOIN campaigns c ON c.id = b.campaign_id
			JOIN deliveries d ON d.campaign_id = b.campaign_id AND d.batch = b.batch
			WHERE c.status = 'running' AND b.lease_until < $1 AND d.status = 'queued'),
		(SELECT CAST(COALESCE(SUM(suspect), 0) AS BIGINT) FROM campaign_batches)`, now).Scan(&leased, &expired, &unknown, &suspect)
	if err != nil {
		return t, database.MapError(err)
	}
	return Totals{int(leased), int(expired), int(unknown), int(suspect)}, nil
}
