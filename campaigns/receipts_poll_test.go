package campaigns_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// sendBySMS rebuilds the env's service to send through the real Aliyun
// SDK against a fake and to poll its receipts every interval, then sends a
// transfer notice by SMS to the three active customers (one SendBatchSms
// of two sharing a BizId, one SendSms) and returns the campaign.
func (e *env) sendBySMS(fake *smsfake.Server, every time.Duration) *campaigns.Campaign {
	e.t.Helper()
	ctx := context.Background()
	ch, err := sms.New(fake.Config())
	if err != nil {
		e.t.Fatal(err)
	}
	list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("default SMS template: %d, %v", len(list), err)
	}
	content := list[0].Content
	content.SMS.TemplateCode = "SMS_100"
	if _, err := e.ts.UpdateTemplate(ctx, list[0].ID, templates.Update{Content: content}, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	e.inbox = inboxtest.New(e.t, e.db, e.vault, e.q)
	e.svc = campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test",
		Channels: map[channels.Name]channels.Channel{channels.SMS: ch}, BatchSize: 2, SMSReceipts: ch, ReceiptPoll: every,
		CountReceipt: e.inbox.CountReceipt})
	c := &campaigns.Campaign{Name: "sms", TransferID: e.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.SMS}, Templates: map[channels.Name]string{channels.SMS: list[0].ID}}
	if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	e.runWorker()
	e.waitStatus(c.ID, campaigns.StatusCompleted)
	if got := e.counts(c.ID); got["sent"] != 3 {
		e.t.Fatalf("counts %v; want 3 sent", got)
	}
	return c
}

// smsRow is what the poller reads and writes of one delivery.
type smsRow struct {
	status, errMsg string
	polled         bool
}

// smsRow returns the campaign's delivery to a customer.
func (e *env) smsRow(campaignID, customerID string) smsRow {
	e.t.Helper()
	var r smsRow
	if err := e.db.QueryRowContext(context.Background(), `SELECT status, error, receipt_polled_at IS NOT NULL FROM deliveries
		WHERE campaign_id = $1 AND customer_id = $2`, campaignID, customerID).Scan(&r.status, &r.errMsg, &r.polled); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// queries counts the QuerySendDetails calls the fake answered.
func queries(fake *smsfake.Server) int {
	n := 0
	for _, c := range fake.Calls() {
		if c.Action == "QuerySendDetails" {
			n++
		}
	}
	return n
}

// TestPollReceipts polls SMS receipts through the real SDK: delivered and
// failed receipts update their rows (also in a batch sharing one BizId),
// a message still waiting is asked again only after the interval, an
// outage stops the run without touching rows (the task handler leaves the
// retry to the next interval), an unusable number skips its row only, a
// row a pushed receipt updated is left alone, and sends older than 48
// hours are not asked.
func TestPollReceipts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		fake := smsfake.New(t)
		const every = 5 * time.Minute
		c := e.sendBySMS(fake, every)
		zhang, li, wang := e.customerID("上海", true), e.customerID("杭州", true), e.customerID("上海", false)
		setSentAgo := func(customerID string, ago time.Duration) {
			t.Helper()
			if _, err := db.ExecContext(ctx, `UPDATE deliveries SET sent_at = $1 WHERE campaign_id = $2 AND customer_id = $3`,
				db.Now().Add(-ago), c.ID, customerID); err != nil {
				t.Fatal(err)
			}
		}
		poll := func(wantAsked, wantQueries int) {
			t.Helper()
			before := queries(fake)
			n, err := e.svc.PollReceipts(ctx)
			if err != nil || n != wantAsked || queries(fake)-before != wantQueries {
				t.Fatalf("poll: %d rows, %d queries, %v; want %d rows, %d queries", n, queries(fake)-before, err, wantAsked, wantQueries)
			}
		}

		// Just sent: left to the carrier and to push for 2 minutes.
		poll(0, 0)
		setSentAgo(zhang, 49*time.Hour)
		setSentAgo(li, 11*time.Minute)
		setSentAgo(wang, 10*time.Minute)
		fake.Undeliverable("13900001111", "MK:0001")
		fake.Waiting("13700002222")

		// An outage stops the run and leaves every row to the next one.
		fake.FailNext(1, smsfake.Fault{Status: http.StatusServiceUnavailable})
		if n, err := e.svc.PollReceipts(ctx); n != 0 || channels.Classify(err) != channels.Transient {
			t.Fatalf("poll during an outage: %d, %v; want 0 and a transient error", n, err)
		}
		// The task handler, as the worker runs it, lets the next interval
		// retry an outage and archives an error retrying will not cure.
		mux := asynq.NewServeMux()
		e.svc.Register(mux)
		task, _ := campaigns.PollReceiptsTask(every)
		fake.FailNext(1, smsfake.Fault{Status: http.StatusServiceUnavailable})
		if err := mux.ProcessTask(ctx, task); err != nil {
			t.Fatalf("poll task during an outage: %v; want nil, the next interval retries", err)
		}
		fake.FailNext(1, smsfake.Fault{Code: "isv.INVALID_PARAMETERS", Message: "参数异常"})
		if err := mux.ProcessTask(ctx, task); !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("poll task on a permanent error: %v; want it archived", err)
		}
		if r := e.smsRow(c.ID, li); r.status != "sent" || r.polled {
			t.Fatalf("after failed runs 李四's row is %+v", r)
		}

		// Oldest first: Aliyun calls 李四's number illegal this once, which
		// skips his row, and the run goes on to 王五's, still waiting.
		fake.FailNext(1, smsfake.Fault{Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "非法手机号"})
		poll(2, 2)
		if r := e.smsRow(c.ID, li); r.status != "sent" || !r.polled {
			t.Fatalf("skipped row: 李四's is %+v", r)
		}
		if r := e.smsRow(c.ID, wang); r.status != "sent" || !r.polled {
			t.Fatalf("waiting message: 王五's row is %+v", r)
		}
		if r := e.smsRow(c.ID, zhang); r.status != "sent" || r.polled {
			t.Fatalf("a send 49 hours old was polled: %+v", r)
		}

		// Within the interval neither is asked again; after it, both are.
		fake.Delivered("13700002222")
		poll(0, 0)
		if _, err := db.ExecContext(ctx, `UPDATE deliveries SET receipt_polled_at = $1 WHERE campaign_id = $2 AND customer_id IN ($3, $4)`,
			db.Now().Add(-every), c.ID, li, wang); err != nil {
			t.Fatal(err)
		}
		poll(2, 2)
		if r := e.smsRow(c.ID, li); r.status != "failed" || r.errMsg != "receipt: failed (MK:0001)" {
			t.Fatalf("failed receipt: 李四's row is %+v", r)
		}
		if r := e.smsRow(c.ID, wang); r.status != "delivered" || r.errMsg != "" {
			t.Fatalf("delivered receipt: 王五's row is %+v", r)
		}
		// The receipts metric counts polled receipts as it counts pushed ones.
		want := `
# HELP handover_receipts_total Delivery receipts and bounces processed, by channel and the status they report.
# TYPE handover_receipts_total counter
handover_receipts_total{channel="sms",status="delivered"} 1
handover_receipts_total{channel="sms",status="failed"} 1
`
		if err := testutil.CollectAndCompare(e.inbox.Counters(), strings.NewReader(want), "handover_receipts_total"); err != nil {
			t.Fatalf("receipts metric: %v", err)
		}

		// A pushed receipt came first: the poller leaves the row alone
		// though Aliyun now says delivered.
		setSentAgo(zhang, 10*time.Minute)
		var bizID string
		if err := db.QueryRowContext(ctx, `SELECT provider_id FROM deliveries WHERE campaign_id = $1 AND customer_id = $2`,
			c.ID, zhang).Scan(&bizID); err != nil || bizID == "" {
			t.Fatalf("张三's BizId %q, %v", bizID, err)
		}
		// The inbox matched the report's number to 张三.
		if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.SMS, Kind: channels.EventReceipt,
			ProviderMessageID: bizID, CustomerID: zhang, Status: channels.StatusFailed, ErrorCode: "IC:0001"}); err != nil {
			t.Fatal(err)
		}
		poll(0, 0)
		if r := e.smsRow(c.ID, zhang); r.status != "failed" || r.errMsg != "receipt: failed (IC:0001)" {
			t.Fatalf("pushed receipt: 张三's row is %+v", r)
		}
		if got := e.counts(c.ID); got["delivered"] != 1 || got["failed"] != 2 {
			t.Fatalf("counts %v; want 1 delivered, 2 failed", got)
		}
	})
}
