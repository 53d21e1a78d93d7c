package campaigns

import (
	"context"
	"fmt"
	"time"
)

// Backoff between tries of recording a batch's outcomes.
const (
	recordBackoffMin = 100 * time.Millisecond
	recordBackoffMax = 2 * time.Second
)

// recordRetried records a batch's outcomes (record). When that fails (the
// database is down) it keeps them and tries again with backoff for as
// long as l holds, which the heartbeat extends whenever the database
// answers: while the lease holds no other worker sends these rows, so
// what went out is recorded late instead of sent twice. It stops a tenth
// of a lease before the lease ends (a takeover then finds the rows with
// unknown outcomes) and ignores the task's cancellation: a worker shutting
// down still records what it sent.
func (s *Service) recordRetried(ctx context.Context, c *Campaign, l *batchLease, lb linkBinding, rows []claimed, outs []outcome) error {
	ctx = context.WithoutCancel(ctx)
	margin := s.cfg.Lease / 10
	wait := recordBackoffMin
	for tries := 1; ; tries++ {
		deadline := l.expires().Add(-margin)
		// The clock is the database's (s.db.Now), the one leases are
		// written in; the context deadline is the process's.
		tctx, cancel := context.WithTimeout(ctx, deadline.Sub(s.db.Now()))
		err := s.record(tctx, c, l, lb, rows, outs)
		cancel()
		if err == nil {
			l.released()
			if tries > 1 {
				s.log.Info("campaign batch recorded after retries", "campaign_id", c.ID, "batch", l.batch, "tries", tries)
			}
			return nil
		}
		if tries == 1 {
			s.log.Warn("campaign batch not recorded; keeping its outcomes and retrying", "campaign_id", c.ID, "batch", l.batch, "err", err)
		}
		if !s.db.Now().Add(wait).Before(l.expires().Add(-margin)) {
			return fmt.Errorf("record batch: gave up after %d tries, its lease ending: %w", tries, err)
		}
		time.Sleep(wait)
		wait = min(2*wait, recordBackoffMax)
	}
}

// markSuspect adds n to the batch's suspect rows: rows a takeover found
// queued, which the worker before may have handed to the provider.
func (s *Service) markSuspect(ctx context.Context, l *batchLease, n int) error {
	_, err := s.db.ExecContext(ctx, `UPDATE campaign_batches SET suspect = suspect + $1 WHERE campaign_id = $2 AND batch = $3`,
		int64(n), l.campaign, int64(l.batch))
	if err != nil {
		return fmt.Errorf("claim batch: %w", err)
	}
	s.log.Warn("campaign batch taken over from a worker that stopped; its queued rows are sent again", "campaign_id", l.campaign,
		"batch", l.batch, "rows", n)
	return nil
}
