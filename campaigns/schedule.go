package campaigns

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/queue"
)

// TypeStartDue is the periodic task that runs StartDue.
const TypeStartDue = "campaign:start_due"

// StartDueTask is the periodic task that starts due scheduled campaigns;
// Unique keeps several schedulers from piling copies up, and the
// conditional scheduled → running update starts each campaign once anyway.
func StartDueTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeStartDue, nil), []asynq.Option{asynq.Unique(50 * time.Second), asynq.Queue(queue.QueueDefault)}
}

// Schedule sets a draft or scheduled campaign to start at sendAt, which
// must be in the future, and audits it.
func (s *Service) Schedule(ctx context.Context, id string, sendAt time.Time, actor string) error {
	if sendAt.IsZero() {
		return handover.Errorf(handover.EINVALID, "send_at is required")
	}
	sendAt = sendAt.UTC().Truncate(time.Microsecond)
	if err := s.checkSendableByID(ctx, id); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if !sendAt.After(tx.Now) {
			return handover.Errorf(handover.EINVALID, "send_at must be in the future")
		}
		if err := s.transition(ctx, tx, id, StatusScheduled, "", StatusDraft, StatusScheduled); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET send_at = $1 WHERE id = $2`, sendAt, id); err != nil {
			return fmt.Errorf("schedule campaign: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.schedule", ObjectType: "campaign", ObjectID: id,
			Detail: "send_at=" + sendAt.Format(time.RFC3339)})
	})
}

// errNotDue is returned by a due start whose campaign is no longer
// scheduled and due (another process started it, or it was rescheduled or
// cancelled).
var errNotDue = errors.New("campaign is not due")

// StartDue starts every scheduled campaign whose send_at has passed. Any
// number of processes may run it at once: the conditional scheduled →
// running update, in the planning transaction, lets exactly one plan each
// campaign. It returns how many campaigns this call started.
func (s *Service) StartDue(ctx context.Context) (int, error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM campaigns WHERE status = 'scheduled' AND send_at <= $1 ORDER BY send_at, id`,
		s.db.Now())
	if err != nil {
		return 0, fmt.Errorf("due campaigns: %w", err)
	}
	started := 0
	for _, id := range ids {
		err := s.start(ctx, id, "scheduler", true)
		if errors.Is(err, errNotDue) {
			continue
		}
		if err != nil {
			return started, err
		}
		started++
		s.log.Info("scheduled campaign started", "campaign_id", id)
	}
	return started, nil
}
