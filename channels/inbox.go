package channels

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/queue"
)

// Task types of the inbox.
const (
	// TypeProcessInbound matches one stored event to a customer and hands
	// it to the OnEvent seam.
	TypeProcessInbound = "inbound:process"
	// TypeSweepInbound re-enqueues events whose processing task was lost
	// (Redis flushed or restarted before a worker took it).
	TypeSweepInbound = "inbound:sweep"
)

// Inbox stores inbound events durably and deduplicated, then processes
// them from the queue: webhooks answer as soon as the row is written.
type Inbox struct {
	db      *database.DB
	vault   *pii.Vault
	queue   *queue.Queue
	log     *slog.Logger
	match   func(ctx context.Context, from Address) (string, error)
	onEvent func(ctx context.Context, ev InboundEvent) error
	sent    *SentLog

	metrics inboxMetrics
}

// InboxConfig is what an Inbox is built on. Every field but Log is
// required: a hook left unset would silently stop every ticket, so
// NewInbox refuses it.
type InboxConfig struct {
	DB    *database.DB
	Vault *pii.Vault
	Queue *queue.Queue
	// Match finds the customer an address belongs to ("" when none): the
	// customers package's MatchContact.
	Match func(ctx context.Context, from Address) (string, error)
	// OnEvent receives each processed event, matched or not: campaigns
	// (receipts, opt-outs) and feedback (tickets) act on it.
	OnEvent func(ctx context.Context, ev InboundEvent) error
	// Sent ties a reply that names no delivery to the latest message sent
	// to its sender (under the same SMS sign name).
	Sent *SentLog
	// Log defaults to slog.Default().
	Log *slog.Logger
}

// NewInbox returns an Inbox, or an error naming the part cfg lacks.
func NewInbox(cfg InboxConfig) (*Inbox, error) {
	for _, part := range []struct {
		name    string
		missing bool
	}{{"DB", cfg.DB == nil}, {"Vault", cfg.Vault == nil}, {"Queue", cfg.Queue == nil},
		{"Match", cfg.Match == nil}, {"OnEvent", cfg.OnEvent == nil}, {"Sent", cfg.Sent == nil}} {
		if part.missing {
			return nil, fmt.Errorf("channels: the inbox needs its %s", part.name)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Inbox{db: cfg.DB, vault: cfg.Vault, queue: cfg.Queue, log: cfg.Log, match: cfg.Match, onEvent: cfg.OnEvent,
		sent: cfg.Sent, metrics: newInboxMetrics()}, nil
}

// sealedFields are the personal parts of an event, stored sealed.
type sealedFields struct {
	DedupKey string  `json:"dedup_key"`
	From     Address `json:"from"`
	To       string  `json:"to,omitempty"`
	Text     string  `json:"text,omitempty"`
	// An email's Message-ID and subject, for threading replies.
	MessageID string `json:"message_id,omitempty"`
	Subject   string `json:"subject,omitempty"`
}

// Record stores events not seen before (by channel and DedupKey) in one
// transaction and enqueues their processing. It returns how many were new;
// replays are counted out, not stored again. It implements RecordFunc.
func (in *Inbox) Record(ctx context.Context, events []InboundEvent) (int, error) {
	var fresh []string
	err := in.db.InTx(ctx, func(tx *database.Tx) error {
		fresh = fresh[:0]
		for i := range events {
			ev := &events[i]
			if ev.Channel == "" || ev.Kind == "" || ev.DedupKey == "" {
				return handover.Errorf(handover.EINVALID, "inbound event needs a channel, kind and dedup key")
			}
			id := ulid.Make().String()
			env, err := in.seal(ctx, tx, id, ev)
			if err != nil {
				return err
			}
			occurred := ev.OccurredAt
			if occurred.IsZero() {
				occurred = tx.Now
			}
			// CustomerID is kept when the poster already knows it (the
			// portal); providers' events are matched when processed.
			res, err := tx.ExecContext(ctx, `INSERT INTO inbound_events (id, channel, kind, dedup_key, from_idx, key_id, key_wrapped, sealed,
				provider_message_id, delivery_id, status, error_code, occurred_at, received_at, customer_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (channel, dedup_key) DO NOTHING`,
				id, string(ev.Channel), string(ev.Kind), in.vault.Index.Dedup(ev.DedupKey), addressIndex(in.vault.Index, ev.Channel, ev.From), env.KeyID, env.Wrapped, env.Sealed,
				ev.ProviderMessageID, ev.DeliveryID, ev.Status, ev.ErrorCode, occurred.UTC(), tx.Now, ev.CustomerID)
			if err != nil {
				return fmt.Errorf("store inbound event: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				ev.ID = id
				fresh = append(fresh, id)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, id := range fresh {
		// A lost enqueue is not lost work: the sweep finds the row.
		if err := in.enqueue(ctx, id); err != nil {
			in.log.Warn("enqueue inbound event; the sweep will retry", "event_id", id, "err", err)
		}
	}
	return len(fresh), nil
}

type processPayload struct {
	EventID string `json:"event_id"`
}

func (in *Inbox) enqueue(ctx context.Context, id string) error {
	payload, _ := json.Marshal(processPayload{EventID: id})
	_, err := in.queue.Client.EnqueueContext(ctx, asynq.NewTask(TypeProcessInbound, payload),
		asynq.TaskID("inbound:"+id), asynq.Queue(queue.QueueCritical), asynq.MaxRetry(20), asynq.Retention(time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// Register adds the inbox's task handlers to mux.
func (in *Inbox) Register(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeProcessInbound, in.handleProcess)
	mux.HandleFunc(TypeSweepInbound, func(ctx context.Context, _ *asynq.Task) error {
		_, err := in.Sweep(ctx, time.Minute)
		return err
	})
}

// SweepTask is the periodic task that runs Sweep; Unique keeps several
// schedulers from piling copies up.
func SweepTask() (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypeSweepInbound, nil), []asynq.Option{asynq.Unique(50 * time.Second), asynq.Queue(queue.QueueLow)}
}

// handleProcess matches one event to a customer and hands it on.
func (in *Inbox) handleProcess(ctx context.Context, t *asynq.Task) error {
	var p processPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.EventID == "" {
		return fmt.Errorf("bad inbound payload: %w", asynq.SkipRetry)
	}
	ev, state, err := in.FindEventByID(ctx, p.EventID)
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return nil // erased since: nothing to do
	}
	if err != nil {
		return err
	}
	if state != "received" {
		return nil // already processed (a duplicate task)
	}
	// An event that knows its customer already (the portal's) keeps it.
	if ev.Kind == EventMessage && ev.DeliveryID == "" && ev.CustomerID == "" {
		sent, err := in.sent.Latest(ctx, ev.Channel, ev.From, ev.To)
		if err != nil {
			return err
		}
		ev.DeliveryID, ev.CustomerID = sent.DeliveryID, sent.CustomerID
	}
	if ev.CustomerID == "" {
		if ev.CustomerID, err = in.match(ctx, ev.From); err != nil {
			return err
		}
	}
	if err := in.onEvent(ctx, *ev); err != nil {
		return err
	}
	state = "unmatched"
	if ev.CustomerID != "" {
		state = "matched"
	}
	// Matched, the event is sealed again under the customer's key, so
	// that erasing them makes it unreadable in backups too.
	env, err := in.seal(ctx, in.db, ev.ID, ev)
	if err != nil {
		return err
	}
	res, err := in.db.ExecContext(ctx, `UPDATE inbound_events SET state = $1, customer_id = $2, delivery_id = $3, processed_at = $4,
		key_id = $5, key_wrapped = $6, sealed = $7 WHERE id = $8 AND state = 'received'`,
		state, ev.CustomerID, ev.DeliveryID, in.db.Now(), env.KeyID, env.Wrapped, env.Sealed, ev.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		in.metrics.count(ev, state)
	}
	return nil
}

// seal seals the event's personal fields under its customer's data key
// when the customer is known and not erased, else under a key of its own.
func (in *Inbox) seal(ctx context.Context, q pii.Querier, id string, ev *InboundEvent) (pii.Envelope, error) {
	f := sealedFields{DedupKey: ev.DedupKey, From: ev.From, To: ev.To, Text: ev.Text, MessageID: ev.MessageID, Subject: ev.Subject}
	if ev.CustomerID != "" {
		keys, err := in.vault.CustomerKeys(ctx, q, []string{ev.CustomerID})
		if err != nil {
			return pii.Envelope{}, err
		}
		if dk := keys[ev.CustomerID]; dk != nil {
			return pii.SealForCustomer(dk, f, "inbound/"+id)
		}
	}
	return in.vault.Keys.SealEnvelope(f, "inbound/"+id)
}

// FindEventByID loads an event with its sealed fields opened, and its
// processing state.
func (in *Inbox) FindEventByID(ctx context.Context, id string) (*InboundEvent, string, error) {
	var ev InboundEvent
	var env pii.Envelope
	var channel, kind, state string
	err := in.db.QueryRowContext(ctx, `SELECT id, channel, kind, key_id, key_wrapped, sealed, provider_message_id, delivery_id,
		status, error_code, customer_id, state, occurred_at FROM inbound_events WHERE id = $1`, id).
		Scan(&ev.ID, &channel, &kind, &env.KeyID, &env.Wrapped, &env.Sealed, &ev.ProviderMessageID, &ev.DeliveryID,
			&ev.Status, &ev.ErrorCode, &ev.CustomerID, &state, &ev.OccurredAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", handover.Errorf(handover.ENOTFOUND, "inbound event not found")
	}
	if err != nil {
		return nil, "", fmt.Errorf("find inbound event: %w", err)
	}
	var f sealedFields
	err = in.vault.Keys.OpenCustomerEnvelope(ctx, in.db, ev.CustomerID, env, "inbound/"+ev.ID, &f)
	if errors.Is(err, pii.ErrShredded) {
		return nil, "", handover.Errorf(handover.ENOTFOUND, "inbound event not found (its customer was erased)")
	}
	if err != nil {
		return nil, "", fmt.Errorf("open inbound event %s: %w", ev.ID, err)
	}
	ev.Channel, ev.Kind, ev.DedupKey, ev.From, ev.To, ev.Text = Name(channel), EventKind(kind), f.DedupKey, f.From, f.To, f.Text
	ev.MessageID, ev.Subject = f.MessageID, f.Subject
	return &ev, state, nil
}

// Sweep re-enqueues events still unprocessed after olderThan, so that
// losing Redis loses no inbound event. It returns how many it re-enqueued.
func (in *Inbox) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	ids, err := in.db.QueryIDs(ctx, `SELECT id FROM inbound_events WHERE state = 'received' AND received_at < $1 ORDER BY received_at LIMIT 1000`,
		in.db.Now().Add(-olderThan))
	if err != nil {
		return 0, fmt.Errorf("sweep inbound: %w", err)
	}
	n := 0
	for _, id := range ids {
		if err := in.enqueue(ctx, id); err != nil {
			return n, fmt.Errorf("sweep inbound: %w", err)
		}
		n++
	}
	return n, nil
}
