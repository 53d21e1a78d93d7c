package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// Skip reasons recorded on deliveries that are not sent.
const (
	ReasonOptedOut    = "opted_out"
	ReasonErased      = "erased"
	ReasonUnreachable = "no_channel" // no listed channel can reach the customer
	ReasonCancelled   = "cancelled"
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
}

// NewSendBatchTask returns the task sending batch n of a campaign on ch.
// Its TaskID is campaign and batch, so enqueueing it again while it exists
// is a no-op.
func NewSendBatchTask(campaignID string, n int, ch channels.Name) (*asynq.Task, []asynq.Option) {
	b, _ := json.Marshal(batchPayload{Campaign: campaignID, Batch: n, Channel: ch})
	return asynq.NewTask(TypeSendBatch, b), []asynq.Option{
		asynq.TaskID(fmt.Sprintf("campaign:%s:batch:%d", campaignID, n)),
		asynq.Queue(QueueName(ch)), asynq.MaxRetry(maxAttempts), asynq.Timeout(5 * time.Minute),
	}
}

// Register adds the campaign task handlers to mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeSendBatch, s.HandleSendBatch)
	mux.HandleFunc(TypeReconcile, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.Reconcile(ctx)
		return err
	})
	mux.HandleFunc(TypeStartDue, func(ctx context.Context, _ *asynq.Task) error {
		_, err := s.StartDue(ctx)
		return err
	})
}

// Start plans a draft or scheduled campaign now and enqueues its batches.
// A campaign starts once: a second Start is an ECONFLICT error.
func (s *Service) Start(ctx context.Context, id, actor string) error {
	if err := s.Plan(ctx, id, actor); err != nil {
		return err
	}
	return s.enqueuePending(ctx, id)
}

type recipient struct {
	id, status           string
	phone, email, openid bool
}

// reachable reports whether the customer has the address ch needs.
func (r recipient) reachable(ch channels.Name) bool {
	switch ch {
	case channels.SMS:
		return r.phone
	case channels.Email:
		return r.email
	case channels.WeChat:
		return r.openid
	case channels.Devbox:
		return true
	}
	return false
}

// Plan moves the campaign to running and, in the same transaction, writes
// one delivery row per recipient of its audience: queued on the first
// channel of the campaign's order the customer can receive, or skipped
// with a reason. Rows of a channel are grouped in batches of BatchSize.
func (s *Service) Plan(ctx context.Context, id, actor string) error {
	return s.plan(ctx, id, actor, false)
}

// plan is Plan; due starts only a scheduled campaign whose send_at has
// passed, else fails with errNotDue.
func (s *Service) plan(ctx context.Context, id, actor string, due bool) error {
	c, err := s.FindCampaignByID(ctx, id)
	if err != nil {
		return err
	}
	versions := map[channels.Name]int{}
	for _, ch := range c.Channels {
		t, err := s.cfg.Templates.FindTemplateByID(ctx, c.Templates[ch])
		if err != nil {
			return fmt.Errorf("campaign template for %s: %w", ch, err)
		}
		versions[ch] = t.Version
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if due {
			res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'running', started_at = COALESCE(started_at, $1), updated_at = $1
				WHERE id = $2 AND status = 'scheduled' AND send_at <= $1`, tx.Now, id)
			if err != nil {
				return fmt.Errorf("start due campaign: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errNotDue
			}
			if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.start", ObjectType: "campaign", ObjectID: id}); err != nil {
				return err
			}
		} else if err := s.transition(ctx, tx, id, StatusRunning, actor, StatusDraft, StatusScheduled); err != nil {
			return err
		}
		list, err := audience(ctx, tx, c.Audience)
		if err != nil {
			return err
		}
		type row struct {
			id, customer, status, reason string
			ch                           channels.Name
			batch                        int
		}
		rows := make([]row, 0, len(list))
		byChannel := map[channels.Name][]int{}
		for _, r := range list {
			d := row{id: ulid.Make().String(), customer: r.id, status: "skipped"}
			switch r.status {
			case customers.StatusOptedOut:
				d.reason = ReasonOptedOut
			case customers.StatusErased:
				d.reason = ReasonErased
			default:
				d.reason = ReasonUnreachable
				for _, ch := range c.Channels {
					if r.reachable(ch) {
						d.ch, d.status, d.reason = ch, "queued", ""
						byChannel[ch] = append(byChannel[ch], len(rows))
						break
					}
				}
			}
			rows = append(rows, d)
		}
		batch := 0
		for _, ch := range c.Channels {
			for i, idx := range byChannel[ch] {
				if i%s.cfg.BatchSize == 0 {
					batch++
				}
				rows[idx].batch = batch
			}
		}
		cols := []string{"id", "campaign_id", "customer_id", "batch", "channel", "template_id", "template_version", "status", "skip_reason", "updated_at"}
		for start := 0; start < len(rows); start += 5000 {
			part := rows[start:min(start+5000, len(rows))]
			err := database.InsertRows(ctx, tx, "deliveries", cols, "", len(part), func(i int, dst []any) []any {
				d := part[i]
				return append(dst, d.id, id, d.customer, int64(d.batch), string(d.ch), c.Templates[d.ch], int64(versions[d.ch]),
					d.status, d.reason, tx.Now)
			})
			if err != nil {
				return fmt.Errorf("plan campaign: %w", err)
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET planned_count = $1 WHERE id = $2`, int64(len(rows)), id)
		return err
	})
}

// audience reads the reachability of every customer the audience selects.
// It reads blind-index presence only: nothing is decrypted.
func audience(ctx context.Context, tx *database.Tx, a Audience) ([]recipient, error) {
	where, args := []string{"1 = 1"}, []any{}
	if a.Region != "" {
		args = append(args, a.Region)
		where = append(where, fmt.Sprintf("region = $%d", len(args)))
	}
	if a.Tag != "" {
		args = append(args, "%,"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(a.Tag)+",%")
		where = append(where, fmt.Sprintf(`(',' || tags || ',') LIKE $%d ESCAPE '\'`, len(args)))
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, status, phone_idx IS NOT NULL, email_idx IS NOT NULL, openid_idx IS NOT NULL
		FROM customers WHERE `+strings.Join(where, " AND ")+` ORDER BY id`, args...)
	if err != nil {
		return nil, fmt.Errorf("campaign audience: %w", err)
	}
	defer rows.Close()
	var out []recipient
	for rows.Next() {
		var r recipient
		if err := rows.Scan(&r.id, &r.status, &r.phone, &r.email, &r.openid); err != nil {
			return nil, fmt.Errorf("campaign audience: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// enqueuePending enqueues a task for every batch of the campaign that has
// rows waiting (queued, or sending with an expired lease). Batches whose
// task still exists are left alone.
func (s *Service) enqueuePending(ctx context.Context, id string) error {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT batch, channel FROM deliveries WHERE campaign_id = $1
		AND (status = 'queued' OR (status = 'sending' AND lease_until < $2)) ORDER BY batch`, id, s.db.Now())
	if err != nil {
		return fmt.Errorf("enqueue campaign: %w", err)
	}
	type pending struct {
		n  int
		ch string
	}
	var list []pending
	for rows.Next() {
		var p pending
		if err := rows.Scan(&p.n, &p.ch); err != nil {
			rows.Close()
			return err
		}
		list = append(list, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, p := range list {
		task, opts := NewSendBatchTask(id, p.n, channels.Name(p.ch))
		if _, err := s.cfg.Queue.Client.EnqueueContext(ctx, task, opts...); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("enqueue campaign batch: %w", err)
		}
	}
	if len(list) == 0 {
		return s.completeIfDone(ctx, id)
	}
	return nil
}
