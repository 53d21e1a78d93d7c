package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
)

// TypeReconcile is the periodic task that runs Reconcile.
const TypeReconcile = "campaign:reconcile"

// ReconcileTask is the periodic task that runs Reconcile; Unique keeps
// several schedulers from piling copies up.
func ReconcileTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeReconcile, nil), []asynq.Option{asynq.Unique(50 * time.Second), asynq.Queue(queue.QueueLow)}
}

// Reconcile restores the work of every running campaign from the database:
// it enqueues each batch that has rows queued, or sending with an expired
// lease (a worker died), and whose task is gone (Redis restarted or
// flushed). Batches whose task still exists are left alone (TaskID), and
// campaigns with nothing left are marked completed. It returns how many
// campaigns it looked at.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM campaigns WHERE status = 'running' ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("reconcile campaigns: %w", err)
	}
	for _, id := range ids {
		if err := s.enqueuePending(ctx, id); err != nil {
			return 0, err
		}
	}
	// Plans cut short (the planning worker died, its task was lost).
	if _, err := s.recoverPlans(ctx); err != nil {
		return 0, err
	}
	return len(ids), nil
}
