package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/queue"
)

// TypeRecover is the frequent periodic task that runs Recover.
const TypeRecover = "campaign:recover"

// RecoverEvery is how often the scheduler runs Recover.
const RecoverEvery = 10 * time.Second

// RecoverTask is the periodic task that runs Recover; Unique keeps several
// schedulers from piling copies up.
func RecoverTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeRecover, nil), []asynq.Option{asynq.Unique(RecoverEvery - time.Second), asynq.Queue(queue.QueueCritical)}
}

// Recover hands on the work of workers that stopped, cheaply enough to run
// every few seconds (Reconcile, every minute, also restores lost tasks):
// each batch of a running campaign whose lease expired (its worker stopped
// renewing it) gets a task of its own, which takes the batch over and sends
// its rows still queued; and a campaign whose planning made no progress
// for a lease gets a new plan task, which resumes from the rows already
// written. It returns how many batches and plans it handed on.
func (s *Service) Recover(ctx context.Context) (int, error) {
	n, err := s.recoverBatches(ctx)
	if err != nil {
		return n, err
	}
	m, err := s.recoverPlans(ctx)
	if err != nil {
		return n + m, err
	}
	k, err := s.recoverLostTasks(ctx)
	return n + m + k, err
}

// recoverLostTasks restores the tasks of running campaigns with queued rows
// whose channel queues are empty in Asynq (Redis was flushed or restarted
// empty), as Reconcile does, without waiting for its minute: one queue
// look-up per channel and one index probe per campaign.
func (s *Service) recoverLostTasks(ctx context.Context) (int, error) {
	in := s.cfg.Queue.Inspector
	if in == nil {
		return 0, nil
	}
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM campaigns c WHERE status = 'running' AND planned_at IS NOT NULL
		AND (`+lastQueued("c.id")+`) IS NOT NULL ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("recover lost tasks: %w", err)
	}
	empty := map[channels.Name]bool{}
	n := 0
	for _, id := range ids {
		c, err := s.FindCampaignByID(ctx, id)
		if err != nil {
			return n, err
		}
		lost := true
		for _, ch := range c.Channels {
			e, seen := empty[ch]
			if !seen {
				info, err := in.GetQueueInfo(QueueName(ch))
				// No such queue (never used, or flushed) is an empty one.
				e = err != nil || info.Pending+info.Active+info.Scheduled+info.Retry == 0
				empty[ch] = e
			}
			lost = lost && e
		}
		if !lost {
			continue
		}
		if err := s.enqueuePending(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// recoverBatches enqueues a takeover task per expired lease of a running
// campaign, and clears expired leases with no queued row left.
func (s *Service) recoverBatches(ctx context.Context) (int, error) {
	now := s.db.Now()
	type expired struct {
		campaign string
		batch    int
		attempts int
		until    time.Time
	}
	list, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (expired, error) {
		var e expired
		err := row.Scan(&e.campaign, &e.batch, &e.attempts, &e.until)
		return e, err
	}, `SELECT b.campaign_id, b.batch, b.attempts, b.lease_until FROM campaign_batches b
		JOIN campaigns c ON c.id = b.campaign_id WHERE c.status = 'running' AND b.lease_until IS NOT NULL AND b.lease_until < $1
		ORDER BY b.campaign_id, b.batch`, now)
	if err != nil {
		return 0, fmt.Errorf("recover batches: %w", err)
	}
	handed := 0
	cache := map[string]*Campaign{}
	for _, e := range list {
		p := pendingBatch{n: e.batch, recover: e.attempts}
		var ch string
		err := s.db.QueryRowContext(ctx, `SELECT channel, time_zone FROM deliveries WHERE campaign_id = $1 AND batch = $2
			AND status = 'queued' LIMIT 1`, e.campaign, int64(e.batch)).Scan(&ch, &p.zone)
		if errors.Is(err, sql.ErrNoRows) {
			// Everything was recorded: the lease only never came back.
			_, err = s.db.ExecContext(ctx, `UPDATE campaign_batches SET lease_until = NULL WHERE campaign_id = $1 AND batch = $2
				AND lease_until = $3`, e.campaign, int64(e.batch), e.until)
			if err != nil {
				return handed, fmt.Errorf("recover batches: %w", err)
			}
			continue
		} else if err != nil {
			return handed, fmt.Errorf("recover batches: %w", err)
		}
		p.ch = channels.Name(ch)
		c := cache[e.campaign]
		if c == nil {
			if c, err = s.FindCampaignByID(ctx, e.campaign); err != nil {
				return handed, err
			}
			cache[e.campaign] = c
		}
		if err := s.enqueueBatches(ctx, c, []pendingBatch{p}); err != nil {
			return handed, err
		}
		handed++
	}
	return handed, nil
}

// recoverPlans makes sure every running or paused campaign still being
// planned has a plan task: the usual one (a no-op while it exists), and,
// when its planning made no progress (campaigns.updated_at, which every
// planning step sets) for a lease, one with an id new every lease, which a
// copy stuck with a dead worker in Asynq does not block. Planners of one
// campaign take turns and resume from the rows already written. It returns
// how many stalled plans it handed on.
func (s *Service) recoverPlans(ctx context.Context) (int, error) {
	now := s.db.Now()
	stalled := map[string]bool{}
	var ids []string
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var id string
		var at time.Time
		if err := row.Scan(&id, &at); err != nil {
			return err
		}
		ids = append(ids, id)
		stalled[id] = at.Before(now.Add(-s.cfg.Lease))
		return nil
	}, `SELECT id, updated_at FROM campaigns WHERE status IN ('running', 'paused') AND planned_at IS NULL ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("recover plans: %w", err)
	}
	n := 0
	for _, id := range ids {
		c, err := s.FindCampaignByID(ctx, id)
		if err != nil {
			return n, err
		}
		task, opts := NewPlanTask(c)
		if stalled[id] {
			opts = append(opts, asynq.TaskID(fmt.Sprintf("%s:%d", planTaskID(id), now.Truncate(s.cfg.Lease).Unix())))
		}
		_, err = s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...)
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			continue
		} else if err != nil {
			return n, fmt.Errorf("enqueue campaign plan: %w", err)
		}
		if stalled[id] {
			n++
			s.log.Warn("campaign planning stalled; planning resumes in a new task", "campaign_id", id)
		}
	}
	return n, nil
}
