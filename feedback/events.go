package feedback

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
)

// EventsChannel is the Redis pub/sub channel ticket events go out on.
const EventsChannel = "handover:tickets"

// TicketEvent tells dashboards that a ticket changed; it carries ids only,
// never text, and readers load what they show.
type TicketEvent struct {
	// Type is created, message (a customer wrote), reopened, reply, note,
	// updated, merged, linked or breached; dashboards may publish their own
	// (e.g. viewing, for a collision notice) with Publish.
	Type     string `json:"type"`
	TicketID string `json:"ticket_id"`
	// Actor is who caused it: "staff:ID", "customer:ID" or "system".
	Actor string    `json:"actor,omitempty"`
	At    time.Time `json:"at"`
}

// Publish sends a dashboard's own event (such as "viewing") to every
// subscriber in every process.
func (s *Service) Publish(ctx context.Context, ev TicketEvent) { s.publish(ctx, ev) }

// publish sends ev to every subscriber in every process. Live updates are
// a convenience: a failure is logged and the change stands.
func (s *Service) publish(ctx context.Context, ev TicketEvent) {
	if s.cfg.Queue == nil {
		return
	}
	if ev.At.IsZero() {
		ev.At = s.db.Now()
	}
	b, _ := json.Marshal(ev)
	if err := s.cfg.Queue.Redis.Publish(ctx, EventsChannel, b).Err(); err != nil {
		s.log.Warn("publish ticket event", "ticket_id", ev.TicketID, "err", err)
	}
}

// Subscribe returns the ticket events published from now on by any
// process, until ctx ends (the channel is then closed). A slow reader
// misses events rather than holding others up.
func (s *Service) Subscribe(ctx context.Context) (<-chan TicketEvent, error) {
	sub := s.cfg.Queue.Redis.Subscribe(ctx, EventsChannel)
	if _, err := sub.Receive(ctx); err != nil { // the subscription is live
		sub.Close()
		return nil, fmt.Errorf("subscribe to ticket events: %w", err)
	}
	out := make(chan TicketEvent, 64)
	go func() {
		defer close(out)
		defer sub.Close()
		in := sub.Channel()
		for {
			select {
			case <-ctx.Done():
				return
			case m, ok := <-in:
				if !ok {
					return
				}
				var ev TicketEvent
				if json.Unmarshal([]byte(m.Payload), &ev) != nil {
					continue
				}
				select {
				case out <- ev:
				default:
				}
			}
		}
	}()
	return out, nil
}

// Task types of the feedback service.
const TypeCheckSLA = "ticket:check_sla"

// CheckSLATask is the periodic task that runs CheckSLA; Unique keeps
// several schedulers from piling copies up.
func CheckSLATask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeCheckSLA, nil), []asynq.Option{asynq.Unique(50 * time.Second), asynq.Queue(queue.QueueLow)}
}

// Register adds the service's task handlers to mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeCheckSLA, func(ctx context.Context, _ *asynq.Task) error {
		_, _, err := s.CheckSLA(ctx)
		return err
	})
}

// CheckSLA flags open tickets whose next deadline has passed (breached)
// and closes tickets resolved longer ago than the reopen window. It
// returns how many it flagged and closed.
func (s *Service) CheckSLA(ctx context.Context) (breached, closed int, err error) {
	now := s.db.Now()
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM tickets WHERE status IN ('new', 'open', 'pending') AND NOT breached AND sla_due < $1
		ORDER BY sla_due LIMIT 5000`, now)
	if err != nil {
		return 0, 0, fmt.Errorf("check SLA: %w", err)
	}
	for _, id := range ids {
		res, err := s.db.ExecContext(ctx, `UPDATE tickets SET breached = TRUE, updated_at = $1 WHERE id = $2 AND NOT breached`, now, id)
		if err != nil {
			return breached, 0, fmt.Errorf("check SLA: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			breached++
			s.publish(ctx, TicketEvent{Type: "breached", TicketID: id, Actor: "system", At: now})
		}
	}
	res, err := s.db.ExecContext(ctx, `UPDATE tickets SET status = 'closed', closed_at = $1, updated_at = $1
		WHERE status = 'resolved' AND resolved_at < $2`, now, now.Add(-s.cfg.ReopenWindow))
	if err != nil {
		return breached, 0, fmt.Errorf("close resolved tickets: %w", err)
	}
	n, _ := res.RowsAffected()
	return breached, int(n), nil
}
