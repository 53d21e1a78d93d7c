package lifecycle

import (
	"context"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
)

// TypeDestroyDue is the periodic task that runs approved destruction plans
// whose due date has come.
const TypeDestroyDue = "lifecycle:destroy_due"

// DestroyDueTask is the task the scheduler enqueues (hourly).
func DestroyDueTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeDestroyDue, nil), []asynq.Option{asynq.Unique(55 * time.Minute), asynq.Queue(queue.QueueLow)}
}

// Register adds the destruction task's handler to mux.
func (d *Destroyer) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeDestroyDue, func(ctx context.Context, _ *asynq.Task) error {
		_, err := d.RunDue(ctx)
		return err
	})
}

// RunDue runs every due, approved plan as "system" and returns how many
// ran.
func (d *Destroyer) RunDue(ctx context.Context) (int, error) {
	ids, err := d.DuePlans(ctx)
	if err != nil {
		return 0, err
	}
	for i, id := range ids {
		if _, err := d.RunDestruction(ctx, id, "system"); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}
