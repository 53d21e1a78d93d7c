package governance

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
)

// TypeHousekeeping is the periodic task that disables expired third-party
// accounts and starts the access review when one is due.
const TypeHousekeeping = "governance:housekeeping"

// HousekeepingTask is the periodic task; Unique keeps several schedulers
// from piling copies up.
func HousekeepingTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeHousekeeping, nil), []asynq.Option{asynq.Unique(50 * time.Second), asynq.Queue(queue.QueueLow)}
}

// Register adds the governance task handler to mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeHousekeeping, func(ctx context.Context, _ *asynq.Task) error {
		return s.Housekeeping(ctx)
	})
}

// Housekeeping disables expired accounts and starts a due review.
func (s *Service) Housekeeping(ctx context.Context) error {
	if _, err := s.DisableExpiredStaff(ctx); err != nil {
		return err
	}
	due, err := s.ReviewDue(ctx)
	if err != nil || !due {
		return err
	}
	_, err = s.StartReview(ctx, "system")
	return err
}
