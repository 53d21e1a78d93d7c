package campaigns_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/transfers"
)

// withInbox rebuilds the env's devbox and service around an inbox whose
// OnEvent is the campaigns service, as serve wires it, and runs a worker
// for the inbox and the campaign queues.
func (e *env) withInbox() *channels.Inbox {
	e.t.Helper()
	// Addresses match no one here. OnEvent reads e.svc when events come,
	// after the service is built on the devbox that records into this inbox.
	in, err := channels.NewInbox(channels.InboxConfig{DB: e.db, Vault: e.vault, Queue: e.q, Sent: channels.NewSentLog(e.db, e.vault.Index, nil),
		Match:   func(context.Context, channels.Address) (string, error) { return "", nil },
		OnEvent: func(ctx context.Context, ev channels.InboundEvent) error { return e.svc.HandleInboundEvent(ctx, ev) }})
	if err != nil {
		e.t.Fatal(err)
	}
	e.devbox = devbox.New(e.db, e.vault.Keys, in.Record)
	e.svc = campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q, Customers: e.cs, Templates: e.ts,
		Channels: map[channels.Name]channels.Channel{channels.Devbox: e.devbox}, PublicURL: "https://handover.test", BatchSize: 2})
	qs := queue.DefaultQueues()
	for k, v := range campaigns.Queues(map[channels.Name]channels.Channel{channels.Devbox: nil}) {
		qs[k] = v
	}
	srv := e.q.NewServer(queue.ServerConfig{Concurrency: 4, Queues: qs,
		TaskCheckInterval: 20 * time.Millisecond, DelayedTaskCheckInterval: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	mux := asynq.NewServeMux()
	e.svc.Register(mux)
	in.Register(mux)
	if err := srv.Start(mux); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(srv.Shutdown)
	return in
}

// waitCount waits until the campaign has n deliveries of status.
func (e *env) waitCount(id string, status channels.DeliveryStatus, n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.counts(id)[status] != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("deliveries %v; want %d %s", e.counts(id), n, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCampaignReceipts sends through the devbox, whose simulated
// "delivered" receipts go through the inbox: every sent delivery reaches
// delivered. Receipts only move a delivery forward, and a receipt that
// names the provider id only finds its row.
func TestCampaignReceipts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.withInbox()
		c := e.create("receipts")
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		e.waitCount(c.ID, "delivered", 3)
		ds, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "delivered"})
		if err != nil || len(ds) != 3 {
			t.Fatalf("delivered: %d, %v", len(ds), err)
		}
		for _, d := range ds {
			if d.ProviderID == "" || d.SentAt == nil {
				t.Fatalf("delivered row without its send record: %+v", d)
			}
		}
		// A late failed receipt, twice, does not move delivered back.
		d := ds[0]
		for range 2 {
			if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.Devbox, Kind: channels.EventReceipt,
				DeliveryID: d.ID, Status: channels.StatusFailed}); err != nil {
				t.Fatal(err)
			}
		}
		if got := e.counts(c.ID); got["delivered"] != 3 {
			t.Fatalf("after a late receipt: %v", got)
		}
		// By provider id: a sent row bounces, once.
		if _, err := db.ExecContext(ctx, `UPDATE deliveries SET status = 'sent', provider_id = 'p-1' WHERE id = $1`, d.ID); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.Devbox, Kind: channels.EventBounce,
				ProviderMessageID: "p-1", ErrorCode: "5.1.1"}); err != nil {
				t.Fatal(err)
			}
		}
		bounced, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "bounced"})
		if err != nil || len(bounced) != 1 || bounced[0].ID != d.ID || bounced[0].Error != "receipt: bounced (5.1.1)" {
			t.Fatalf("bounced: %+v, %v", bounced, err)
		}
		// One provider id for several rows (an SMS batch send): the
		// receipt's matched customer picks the row; unmatched, none moves.
		if _, err := db.ExecContext(ctx, `UPDATE deliveries SET status = 'sent', provider_id = 'biz-1' WHERE id IN ($1, $2)`,
			ds[1].ID, ds[2].ID); err != nil {
			t.Fatal(err)
		}
		for _, customerID := range []string{"", ds[2].CustomerID} {
			if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.Devbox, Kind: channels.EventReceipt,
				ProviderMessageID: "biz-1", CustomerID: customerID, Status: channels.StatusFailed}); err != nil {
				t.Fatal(err)
			}
			failed, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "failed"})
			if want := map[string]int{"": 0, ds[2].CustomerID: 1}[customerID]; err != nil || len(failed) != want ||
				(want == 1 && failed[0].ID != ds[2].ID) {
				t.Fatalf("shared provider id, customer %q: failed %+v, %v", customerID, failed, err)
			}
		}
		if _, err := db.ExecContext(ctx, `UPDATE deliveries SET status = 'delivered' WHERE id IN ($1, $2)`, ds[1].ID, ds[2].ID); err != nil {
			t.Fatal(err)
		}
		// Another channel's provider id does not match.
		if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.SMS, Kind: channels.EventReceipt,
			DeliveryID: ds[1].ID, Status: channels.StatusFailed}); err != nil {
			t.Fatal(err)
		}
		if got := e.counts(c.ID); got["delivered"] != 2 || got["bounced"] != 1 {
			t.Fatalf("counts %v", got)
		}
	})
}

// TestCampaignScheduled schedules a campaign: a past send_at is refused,
// nothing starts before it is due, and two concurrent starters once it is
// due plan it once.
func TestCampaignScheduled(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("scheduled")
		if err := e.svc.Schedule(ctx, c.ID, time.Now().Add(-time.Minute), "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("past send_at: %v", err)
		}
		at := time.Now().Add(time.Hour)
		if err := e.svc.Schedule(ctx, c.ID, at, "staff:test"); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.FindCampaignByID(ctx, c.ID)
		if err != nil || got.Status != campaigns.StatusScheduled || got.SendAt == nil || got.SendAt.Sub(at).Abs() > time.Millisecond {
			t.Fatalf("scheduled: %+v, %v", got, err)
		}
		if n, err := e.svc.StartDue(ctx); err != nil || n != 0 {
			t.Fatalf("start before due: %d, %v", n, err)
		}
		if _, err := db.ExecContext(ctx, `UPDATE campaigns SET send_at = $1 WHERE id = $2`, db.Now().Add(-time.Second), c.ID); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		started := make([]int, 4)
		errs := make([]error, 4)
		for i := range started {
			wg.Go(func() { started[i], errs[i] = e.svc.StartDue(ctx) })
		}
		wg.Wait()
		total := 0
		for i := range started {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			total += started[i]
		}
		if total != 1 {
			t.Fatalf("started %d times, want once", total)
		}
		if got := e.counts(c.ID); got["queued"] != 3 || got["skipped"] != 1 {
			t.Fatalf("counts %v", got)
		}
		if err := e.svc.Schedule(ctx, c.ID, time.Now().Add(time.Hour), "staff:test"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("schedule running: %v", err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		if n := len(e.messagesOf(c.ID)); n != 3 {
			t.Fatalf("%d messages, want 3", n)
		}
	})
}
