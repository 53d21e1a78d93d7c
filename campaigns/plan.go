package campaigns

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// TypeSendBatch is the task that sends one batch of a campaign's deliveries.
const TypeSendBatch = "campaign:send_batch"

// QueueName is the Asynq queue batch tasks of channel ch go to, so a slow
// or rate-limited channel does not hold the others up.
func QueueName(ch channels.Name) string { return "send_" + string(ch) }

// Queues returns the worker queue weights for chs, to merge into the
// worker's queues.
func Queues(chs map[channels.Name]channels.Channel) map[string]int {
	out := map[string]int{}
	for ch := range chs {
		out[QueueName(ch)] = 3
	}
	return out
}

type batchPayload struct {
	Campaign string        `json:"c"`
	Batch    int           `json:"b"`
	Channel  channels.Name `json:"ch"`
	// Zone is the time zone the batch's quiet hours are reckoned in; ""
	// (tasks from before zones were recorded) is the campaign's.
	Zone string `json:"tz,omitempty"`
}

// NewSendBatchTask returns the task sending batch n of a campaign on ch,
// whose rows are held in time zone zone. Its TaskID is campaign and batch,
// so enqueueing it again while it exists is a no-op.
func NewSendBatchTask(campaignID string, n int, ch channels.Name, zone string) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(batchPayload{Campaign: campaignID, Batch: n, Channel: ch, Zone: zone})
	return asynq.NewTask(TypeSendBatch, b), []asynq.Option{
		asynq.TaskID(batchTaskID(campaignID, n)),
		asynq.Queue(QueueName(ch)), asynq.MaxRetry(maxAttempts), asynq.Timeout(5 * time.Minute),
	}
}

// TypePlan is the task that plans what is left of a started campaign's
// audience, a chunk at a time.
const TypePlan = "campaign:plan"

// NewPlanTask returns the task planning the rest of campaign c. It goes to
// the queue of c's first channel, which every worker sending c serves; its
// TaskID keeps one per campaign.
func NewPlanTask(c *Campaign) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(batchPayload{Campaign: c.ID})
	return asynq.NewTask(TypePlan, b), []asynq.Option{
		asynq.TaskID(planTaskID(c.ID)), asynq.Queue(QueueName(c.Channels[0])),
		asynq.MaxRetry(maxAttempts), asynq.Timeout(30 * time.Minute),
	}
}

func planTaskID(campaignID string) string { return "campaign:" + campaignID + ":plan" }

// Register adds the campaign task handlers to mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSendBatch, s.HandleSendBatch)
	mux.HandleFunc(TypePlan, func(ctx context.Context, t *asynq.Task) error {
		var p batchPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("%w: bad payload: %v", asynq.SkipRetry, err)
		}
		return s.planAll(ctx, p.Campaign)
	})
	mux.HandleFunc(TypeReconcile, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.Reconcile(ctx)
		return err
	})
	mux.HandleFunc(TypeRecover, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.Recover(ctx)
		return err
	})
	mux.HandleFunc(TypeStartDue, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.StartDue(ctx)
		return err
	})
	if s.cfg.SMSReceipts != nil {
		mux.HandleFunc(TypePollReceipts, s.handlePollReceipts)
	}
}

// Start moves a draft or scheduled campaign to running, enqueues the plan
// task, and plans the first firstPlanChunk recipients of its audience and
// enqueues their batches at once; the plan task plans the rest (planners take turns), enqueuing
// each chunk's batches as it commits. A campaign
// starts once: a second Start is an ECONFLICT error.
func (s *Service) Start(ctx context.Context, id, actor string) error {
	if err := s.checkSendableByID(ctx, id); err != nil {
		return err
	}
	return s.start(ctx, id, actor, false)
}

// Plan starts the campaign like Start but plans the whole audience in the
// caller, enqueuing each chunk's batches as it commits.
func (s *Service) Plan(ctx context.Context, id, actor string) error {
	if err := s.checkSendableByID(ctx, id); err != nil {
		return err
	}
	if err := s.db.InTx(ctx, func(tx *database.Tx) error {
		return s.transition(ctx, tx, id, StatusRunning, actor, StatusDraft, StatusScheduled)
	}); err != nil {
		return err
	}
	return s.planAll(ctx, id)
}

// start is Start; due starts only a scheduled campaign whose send_at has
// passed, else fails with errNotDue.
func (s *Service) start(ctx context.Context, id, actor string, due bool) error {
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		if !due {
			return s.transition(ctx, tx, id, StatusRunning, actor, StatusDraft, StatusScheduled)
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', started_at = COALESCE(started_at, $1), updated_at = $1
			WHERE id = $2 AND status = 'scheduled' AND send_at <= $1`, tx.Now, id)
		if err != nil {
			return fmt.Errorf("start due campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotDue
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.start", ObjectType: "campaign", ObjectID: id})
	})
	if err != nil {
		return err
	}
	s.log.Info("campaign started", "campaign_id", id, "scheduled", due)
	c, err := s.FindCampaignByID(ctx, id)
	if err != nil {
		return err
	}
	// The plan task first: should this process die while planning the
	// first chunk, a worker plans it at once (and a lost enqueue is the
	// reconciler's, or Recover's once planning stalls).
	task, opts := NewPlanTask(c)
	if _, err := s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		s.log.Warn("campaign plan task not enqueued; the reconciler will", "campaign_id", id, "err", err)
	}
	p, err := s.newPlanner(ctx, c)
	if err != nil {
		return err
	}
	done, err := p.step(ctx)
	if done && err == nil && s.cfg.Queue.Inspector != nil {
		// Planned in one chunk: the plan task has nothing to do. One a
		// worker started already finds the campaign planned.
		_ = s.cfg.Queue.Inspector.DeleteTask(QueueName(c.Channels[0]), planTaskID(c.ID))
	}
	return err
}

// firstPlanChunk is how many recipients a planner's first step plans; each
// next step plans twice as many, up to Config.PlanChunk. Start plans the
// first step in the caller, so a campaign's first batches are queued, and
// its first message on its way, within a fraction of a second; and on
// SQLite, where the plan task's transactions hold the one writer, the
// first batches' claims and records do not wait behind a large one.
const firstPlanChunk = 1000

// planAll plans every chunk of the campaign's audience not yet planned.
func (s *Service) planAll(ctx context.Context, id string) error {
	c, err := s.FindCampaignByID(ctx, id)
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	p, err := s.newPlanner(ctx, c)
	if err != nil {
		return err
	}
	for {
		done, err := p.step(ctx)
		if err != nil || done {
			return err
		}
	}
}

// planner writes a campaign's delivery rows a chunk at a time.
type planner struct {
	s        *Service
	c        *Campaign
	sel      selection
	versions map[channels.Name]int
	chunk    int // recipients the next step plans
}

func (s *Service) newPlanner(ctx context.Context, c *Campaign) (*planner, error) {
	p := &planner{s: s, c: c, versions: map[channels.Name]int{}, chunk: min(s.cfg.PlanChunk, firstPlanChunk)}
	for _, ch := range c.Channels {
		t, err := s.cfg.Templates.FindTemplateByID(ctx, c.Templates[ch])
		if err != nil {
			return nil, fmt.Errorf("campaign template for %s: %w", ch, err)
		}
		p.versions[ch] = t.Version
	}
	opted, err := anyChannelOptouts(ctx, s.db)
	if err != nil {
		return nil, err
	}
	p.sel = newSelection(c, c.ID, opted)
	return p, nil
}

type pendingBatch struct {
	n  int
	ch channels.Name
	// zone is the time zone the batch's rows are held in.
	zone string
	// recover is, for a batch whose worker's lease expired, how many
	// times it was claimed; 0 otherwise.
	recover int
}

// step plans the next chunk in one transaction: one delivery row per
// recipient, queued on the first channel of the campaign's order that can
// reach them (batches of BatchSize rows of one channel and one time zone:
// the customer's, else the campaign's), or skipped with a reason; then it
// enqueues the chunk's batches. It reports done once every recipient has a
// row, or when the campaign is no longer being planned.
// Concurrent planners of one campaign take turns on the campaign row and
// each plans from where the last left off.
func (p *planner) step(ctx context.Context) (done bool, err error) {
	s, c := p.s, p.c
	var pend []pendingBatch
	recipients := 0
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET updated_at = $1 WHERE id = $2 AND planned_at IS NULL
			AND status IN ('running', 'paused')`, tx.Now, c.ID)
		if err != nil {
			return fmt.Errorf("plan campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			done = true // planned, or cancelled
			return nil
		}
		var cursor string
		var next int64
		if err := tx.QueryRowContext(ctx, `SELECT plan_cursor, next_batch FROM campaigns WHERE id = $1`, c.ID).Scan(&cursor, &next); err != nil {
			return fmt.Errorf("plan campaign: %w", err)
		}
		list, err := p.sel.chunk(ctx, tx, cursor, p.chunk)
		if err != nil {
			return err
		}
		done, recipients = len(list) < p.chunk, len(list)
		type row struct {
			id, zone string
			reason   SkipReason
			ch       channels.Name
			batch    int64
		}
		// Rows of one channel and zone fill that pair's open batch.
		type batchKey struct {
			ch   channels.Name
			zone string
		}
		rows := make([]row, len(list))
		fill, open := map[batchKey]int{}, map[batchKey]int64{}
		for i, r := range list {
			ch, reason := route(c, r)
			rows[i] = row{id: ulid.Make().String(), ch: ch, reason: reason, zone: cmp.Or(r.timeZone, c.TimeZone)}
			if ch == "" {
				continue
			}
			k := batchKey{ch, rows[i].zone}
			if fill[k]%s.cfg.BatchSize == 0 {
				next++
				open[k] = next
				pend = append(pend, pendingBatch{n: int(next), ch: ch, zone: k.zone})
			}
			rows[i].batch = open[k]
			fill[k]++
		}
		cols := []string{"id", "campaign_id", "customer_id", "batch", "channel", "template_id", "template_version", "status", "skip_reason",
			"time_zone", "updated_at"}
		for start := 0; start < len(rows); start += 5000 {
			part := rows[start:min(start+5000, len(rows))]
			off := start
			err := database.InsertRows(ctx, tx, "deliveries", cols, "", len(part), func(i int, dst []any) []any {
				d := part[i]
				status := channels.StatusQueued
				if d.ch == "" {
					status = channels.StatusSkipped
				}
				return append(dst, d.id, c.ID, list[off+i].id, d.batch, string(d.ch), c.Templates[d.ch], int64(p.versions[d.ch]),
					status, d.reason, d.zone, tx.Now)
			})
			if err != nil {
				return fmt.Errorf("plan campaign: %w", err)
			}
		}
		if len(list) > 0 {
			cursor = list[len(list)-1].id
		}
		var plannedAt *time.Time
		if done {
			plannedAt = &tx.Now
		}
		var skipped int64
		for _, r := range rows {
			if r.ch == "" {
				skipped++
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET plan_cursor = $1, next_batch = $2, planned_count = planned_count + $3,
			skipped_count = skipped_count + $4, planned_at = $5 WHERE id = $6`, cursor, next, int64(len(list)), skipped, plannedAt, c.ID)
		return err
	})
	if err != nil {
		return false, err
	}
	if err := s.enqueueBatches(ctx, c, pend); err != nil {
		return false, err
	}
	if recipients > 0 {
		s.log.Info("campaign chunk planned", "campaign_id", c.ID, "recipients", recipients, "batches", len(pend), "planned", done)
	}
	if done {
		return true, s.completeIfDone(ctx, c.ID)
	}
	p.chunk = min(2*p.chunk, s.cfg.PlanChunk)
	return false, nil
}

// enqueueBatches enqueues a task per batch; during quiet hours in the
// batch's time zone it is due when the window ends there. A batch whose
// task exists is left alone.
func (s *Service) enqueueBatches(ctx context.Context, c *Campaign, list []pendingBatch) error {
	now := s.db.Now()
	var live map[string]bool
	for _, p := range list {
		task, opts := NewSendBatchTask(c.ID, p.n, p.ch, p.zone)
		if p.recover > 0 {
			// The dead worker's task may still be "active" in Asynq until
			// its recoverer runs (about a minute): a task of its own sends
			// the rows now; the old one, if it runs, finds nothing to claim.
			opts = append(opts, asynq.TaskID(fmt.Sprintf("%s:r%d", batchTaskID(c.ID, p.n), p.recover)))
		}
		if hold := c.holdUntil(now, p.zone); !hold.IsZero() {
			opts = append(opts, asynq.ProcessAt(hold))
		}
		_, err := s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...)
		if errors.Is(err, asynq.ErrTaskIDConflict) && p.recover == 0 && s.orphaned(QueueName(p.ch), batchTaskID(c.ID, p.n), &live) {
			// Queued rows whose task a dead worker holds "active" until
			// Asynq's recoverer runs: a task of their own sends them now.
			opts = append(opts, asynq.TaskID(batchTaskID(c.ID, p.n)+":o"))
			_, err = s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...)
		}
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue campaign batch: %w", err)
		}
	}
	return nil
}

func batchTaskID(campaignID string, n int) string {
	return fmt.Sprintf("campaign:%s:batch:%d", campaignID, n)
}

// orphaned reports whether task id is active in Asynq while no live worker
// process runs it (its worker died). live caches the ids of the tasks live
// workers run. A false "orphaned" only enqueues a task that claims nothing.
func (s *Service) orphaned(queueName, id string, live *map[string]bool) bool {
	in := s.cfg.Queue.Inspector
	if in == nil {
		return false
	}
	info, err := in.GetTaskInfo(queueName, id)
	if err != nil || info.State != asynq.TaskStateActive {
		return false
	}
	if *live == nil {
		servers, err := in.Servers()
		if err != nil {
			return false
		}
		*live = map[string]bool{}
		for _, srv := range servers {
			for _, w := range srv.ActiveWorkers {
				(*live)[w.TaskID] = true
			}
		}
	}
	return !(*live)[id]
}

// enqueuePending enqueues a task for every batch of the campaign that has
// queued rows and no live lease. Batches whose task still exists are left
// alone; a batch whose lease expired (its worker died) gets a task of its
// own per claim.
func (s *Service) enqueuePending(ctx context.Context, id string) error {
	c, err := s.FindCampaignByID(ctx, id)
	if err != nil {
		return err
	}
	type lease struct {
		attempts int
		until    sql.NullTime
	}
	leases := map[int]lease{}
	err = database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var n int
		var l lease
		if err := row.Scan(&n, &l.attempts, &l.until); err != nil {
			return err
		}
		leases[n] = l
		return nil
	}, `SELECT batch, attempts, lease_until FROM campaign_batches WHERE campaign_id = $1 AND lease_until IS NOT NULL`, id)
	if err != nil {
		return fmt.Errorf("enqueue campaign: %w", err)
	}
	now := s.db.Now()
	var list []pendingBatch
	err = database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var p pendingBatch
		if err := row.Scan(&p.n, &p.ch, &p.zone); err != nil {
			return err
		}
		if l, ok := leases[p.n]; ok {
			if !l.until.Time.Before(now) {
				return nil // a worker is sending it
			}
			p.recover = l.attempts
		}
		list = append(list, p)
		return nil
	}, `SELECT batch, channel, MAX(time_zone) FROM deliveries WHERE campaign_id = $1 AND status = 'queued'
		GROUP BY batch, channel ORDER BY batch`, id)
	if err != nil {
		return fmt.Errorf("enqueue campaign: %w", err)
	}
	if err := s.enqueueBatches(ctx, c, list); err != nil {
		return err
	}
	if len(list) == 0 {
		return s.completeIfDone(ctx, id)
	}
	return nil
}
