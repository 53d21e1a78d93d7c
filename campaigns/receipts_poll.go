package campaigns

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/time/rate"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/queue"
)

// TypePollReceipts is the periodic task that runs PollReceipts.
const TypePollReceipts = "sms:poll_receipts"

const (
	// maxPolledPerRun bounds one run: at pollRate, 500 queries take 25 s,
	// far below the task timeout; rows left over go first next run.
	maxPolledPerRun = 500
	// pollRate is QuerySendDetails calls a second, a sliver of Aliyun's
	// 5,000 QPS per account, which sends share.
	pollRate = 20
	// receiptWindow is how far back a send is still polled: a receipt not
	// final after 48 hours will not become so.
	receiptWindow = 48 * time.Hour
	// receiptGrace leaves a fresh send to its carrier (and to push) first.
	receiptGrace = 2 * time.Minute
)

// ReceiptQuerier asks a provider for the receipts of one message sent to
// phone under bizID (its provider id) on sendDate; *sms.Channel is one.
type ReceiptQuerier interface {
	QueryDetails(ctx context.Context, phone, bizID string, sendDate time.Time) ([]channels.InboundEvent, error)
}

// PollReceiptsTask is the periodic task that runs PollReceipts every
// interval; Unique, for a little less than the interval, keeps several
// schedulers from piling copies up.
func PollReceiptsTask(every time.Duration) (*asynq.Task, []asynq.Option) {
	return asynq.NewTask(TypePollReceipts, nil), []asynq.Option{asynq.Unique(every * 5 / 6), asynq.Queue(queue.QueueLow)}
}

// handlePollReceipts runs PollReceipts. A transient provider error ends
// the run quietly (the next interval retries); any other one is archived.
func (s *Service) handlePollReceipts(ctx context.Context, _ *asynq.Task) error {
	n, err := s.PollReceipts(ctx)
	switch c := channels.Classify(err); {
	case err == nil:
		s.log.Debug("SMS receipts polled", "deliveries", n)
		return nil
	case c == channels.Transient || c == channels.RateLimited:
		s.log.Warn("SMS receipt poll stopped; the next interval retries", "polled", n, "err", err)
		return nil
	}
	return fmt.Errorf("%w: %v", asynq.SkipRetry, err)
}

// sentSMS is a sent SMS delivery the poller asks about.
type sentSMS struct {
	id, customerID, bizID string
	sentAt                time.Time
}

// PollReceipts asks the SMS provider (Config.SMSReceipts) about SMS
// deliveries still "sent" between 2 minutes and 48 hours after sending,
// oldest first, at most 500 a run, skipping those asked within
// Config.ReceiptPoll, and applies the final receipts as pushed ones are
// (HandleInboundEvent), so push and poll can both run. A row whose number
// is unusable is skipped; any other provider error ends the run with the
// rows asked so far marked. It returns how many rows it asked about.
func (s *Service) PollReceipts(ctx context.Context) (int, error) {
	if s.cfg.SMSReceipts == nil {
		return 0, fmt.Errorf("poll SMS receipts: SMS is not configured")
	}
	rows, err := s.sentSMS(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.customerID
	}
	custs, err := s.cfg.Customers.FindCustomersByIDs(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("poll SMS receipts: %w", err)
	}
	limit := rate.NewLimiter(pollRate, 1)
	for i, r := range rows {
		if c := custs[r.customerID]; c != nil && c.Phone != "" {
			if err := limit.Wait(ctx); err != nil {
				return i, err
			}
			if err := s.pollOne(ctx, r, c.Phone); err != nil {
				return i, err
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE deliveries SET receipt_polled_at = $1 WHERE id = $2`, s.db.Now(), r.id); err != nil {
			return i, fmt.Errorf("poll SMS receipts: %w", err)
		}
	}
	return len(rows), nil
}

// pollOne asks about one delivery and applies its final receipts; an
// unusable number is not an error.
func (s *Service) pollOne(ctx context.Context, r sentSMS, phone string) error {
	events, err := s.cfg.SMSReceipts.QueryDetails(ctx, phone, r.bizID, r.sentAt)
	if channels.Classify(err) == channels.RecipientInvalid {
		s.log.Info("SMS receipt poll skipped a delivery", "delivery_id", r.id, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("poll SMS receipts at delivery %s: %w", r.id, err)
	}
	for _, ev := range events {
		// The answer is for this delivery's number and BizId; a batch's
		// BizId is shared by up to 100 rows and carries no OutId.
		ev.DeliveryID = r.id
		if err := s.HandleInboundEvent(ctx, ev); err != nil {
			return err
		}
		if s.cfg.CountReceipt != nil {
			s.cfg.CountReceipt(ev)
		}
	}
	return nil
}

// sentSMS selects the rows to poll. It reaches deliveries through the
// campaigns that may have sent in the window and their (campaign_id,
// status, id) index rather than scan deliveries.
func (s *Service) sentSMS(ctx context.Context) ([]sentSMS, error) {
	now := s.db.Now()
	since := now.Add(-receiptWindow)
	q, err := s.db.QueryContext(ctx, `SELECT id, customer_id, provider_id, sent_at FROM deliveries
		WHERE campaign_id IN (SELECT id FROM campaigns WHERE started_at IS NOT NULL AND (finished_at IS NULL OR finished_at >= $1))
			AND status = 'sent' AND channel = $2 AND provider_id <> '' AND sent_at >= $1 AND sent_at <= $3
			AND (receipt_polled_at IS NULL OR receipt_polled_at <= $4)
		ORDER BY sent_at, id LIMIT `+fmt.Sprint(maxPolledPerRun),
		since, string(channels.SMS), now.Add(-receiptGrace), now.Add(-s.cfg.ReceiptPoll))
	if err != nil {
		return nil, fmt.Errorf("poll SMS receipts: %w", err)
	}
	defer q.Close()
	var rows []sentSMS
	for q.Next() {
		var r sentSMS
		if err := q.Scan(&r.id, &r.customerID, &r.bizID, &r.sentAt); err != nil {
			return nil, fmt.Errorf("poll SMS receipts: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, q.Err()
}
