package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/database"
)

// batchLease is a worker's hold on one batch (its campaign_batches row):
// short (Config.Lease) and renewed by a heartbeat while the worker lives,
// so a dead worker's batch is taken over within a lease, not a task's
// timeout. owner tells this hold from a later one of the same batch.
type batchLease struct {
	campaign string
	batch    int
	owner    string
	// takeover is set when the claim found the lease of a worker that
	// stopped renewing it: the rows it left queued have unknown outcomes.
	takeover bool

	mu    sync.Mutex
	until time.Time // as last written
}

// expires is when the lease ends unless renewed; zero once given back.
func (l *batchLease) expires() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.until
}

// claimLease takes the batch's lease for Lease unless a live one is held
// (nil, nil): one upsert, conditional on the lease being free or expired.
func (s *Service) claimLease(ctx context.Context, campaignID string, batch int) (*batchLease, error) {
	l := &batchLease{campaign: campaignID, batch: batch, owner: ulid.Make().String()}
	// Read first only to tell a takeover from a fresh claim; the upsert
	// below decides who holds the lease.
	var prev sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT lease_until FROM campaign_batches WHERE campaign_id = $1 AND batch = $2`,
		campaignID, int64(batch)).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	now := s.db.Now()
	l.until = now.Add(s.cfg.Lease)
	ours := false // a row back: the lease is ours
	// A transaction of its own: on SQLite it queues with the others
	// (database.BeginTx) instead of sleeping on the lock while planning
	// holds it.
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		var got int64
		err := tx.QueryRowContext(ctx, `INSERT INTO campaign_batches (campaign_id, batch, attempts, lease_until, lease_owner) VALUES ($1, $2, 1, $3, $5)
			ON CONFLICT (campaign_id, batch) DO UPDATE SET attempts = campaign_batches.attempts + 1, lease_until = excluded.lease_until,
				lease_owner = excluded.lease_owner
			WHERE campaign_batches.lease_until IS NULL OR campaign_batches.lease_until < $4
			RETURNING batch`, campaignID, int64(batch), l.until, now, l.owner).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		ours = err == nil
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim batch: %w", err)
	}
	if !ours {
		return nil, nil
	}
	l.takeover = prev.Valid
	return l, nil
}

// heartbeat renews l every third of the lease until the returned stop is
// called or ctx (the task's) ends: a worker that gives up on the task
// stops holding the batch, and recordRetried has what is left of the lease. A renewal that fails (the database is down) is tried again on
// the next beat; the lease then ends when its last renewal says, and the
// caller, which reads expires, stops relying on it in time.
func (s *Service) heartbeat(ctx context.Context, l *batchLease) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(s.cfg.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			err := s.renew(ctx, l)
			switch {
			case err == nil || ctx.Err() != nil:
			case errors.Is(err, errLeaseLost):
				if !l.expires().IsZero() { // not given back by this worker
					s.log.Warn("campaign batch lease lost to another worker", "campaign_id", l.campaign, "batch", l.batch)
				}
				return
			default:
				s.log.Warn("campaign batch lease not renewed", "campaign_id", l.campaign, "batch", l.batch, "err", err)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// errLeaseLost is renew's answer when another worker holds the batch: the
// lease expired before it could be renewed and was taken over.
var errLeaseLost = errors.New("lease taken over")

// renew extends l by Lease if it is still l's.
func (s *Service) renew(ctx context.Context, l *batchLease) error {
	until := s.db.Now().Add(s.cfg.Lease)
	res, err := s.db.ExecContext(ctx, `UPDATE campaign_batches SET lease_until = $1
		WHERE campaign_id = $2 AND batch = $3 AND lease_owner = $4 AND lease_until IS NOT NULL`,
		until, l.campaign, int64(l.batch), l.owner)
	if err != nil {
		return err
	}
	if rowsAffected(res) == 0 {
		return errLeaseLost
	}
	l.mu.Lock()
	if !l.until.IsZero() { // not given back meanwhile
		l.until = until
	}
	l.mu.Unlock()
	return nil
}

// released notes that l was given back (by release or record).
func (l *batchLease) released() {
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
}

// release gives l back if it is still l's. Failing that, it expires.
func (s *Service) release(ctx context.Context, l *batchLease) {
	l.released()
	_, _ = s.db.ExecContext(ctx, `UPDATE campaign_batches SET lease_until = NULL WHERE campaign_id = $1 AND batch = $2 AND lease_owner = $3`,
		l.campaign, int64(l.batch), l.owner)
}
