package campaigns_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/templates"
)

// TestQuietHoursInCustomersZones plans a campaign (zone Asia/Shanghai)
// whose audience lives in two zones at an instant that is night in Berlin
// and afternoon in Shanghai: the Shanghai batch goes now, the Berlin batch
// waits for Berlin's morning, and the reconciler, finding it lost, holds it
// to the same morning from the zone on its rows.
func TestQuietHoursInCustomersZones(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		zhang, li, wang := e.customerID("上海", true), e.customerID("杭州", true), e.customerID("上海", false)
		for _, id := range []string{li, wang} {
			zone := "Europe/Berlin"
			if _, err := e.cs.UpdateCustomer(ctx, id, customers.CustomerUpdate{TimeZone: &zone}, "staff:test"); err != nil {
				t.Fatal(err)
			}
		}
		// A night after the real clock's: Asynq holds tasks by the real one.
		now := time.Date(time.Now().Year()+1, 3, 2, 6, 0, 0, 0, berlin).UTC() // 14:00 in Shanghai
		db.Now = func() time.Time { return now }
		morning := time.Date(now.Year(), 3, 2, 8, 0, 0, 0, berlin)
		c := &campaigns.Campaign{Name: "各地早安", TransferID: e.transfer, Kind: templates.TransferNotice,
			Quiet: &campaigns.QuietHours{Start: 21 * 60, End: 8 * 60}, TimeZone: campaigns.DefaultTimeZone,
			Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: e.template}}
		if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{zhang: "Asia/Shanghai", li: "Europe/Berlin", wang: "Europe/Berlin"} {
			var zone string
			if err := db.QueryRowContext(ctx, `SELECT time_zone FROM deliveries WHERE campaign_id = $1 AND customer_id = $2`,
				c.ID, id).Scan(&zone); err != nil || zone != want {
				t.Fatalf("delivery zone %q, %v; want %s", zone, err, want)
			}
		}
		qname := campaigns.QueueName(channels.Devbox)
		pending, err := e.q.Inspector.ListPendingTasks(qname)
		if err != nil || len(pending) != 1 || batchZone(t, pending[0]) != "Asia/Shanghai" {
			t.Fatalf("pending tasks %d, %v; want the Shanghai batch", len(pending), err)
		}
		held := heldBatch(t, e, morning)
		// The awake zone's batch is sent; the sleeping zone's rows wait.
		if err := e.svc.HandleSendBatch(ctx, asynq.NewTask(pending[0].Type, pending[0].Payload)); err != nil {
			t.Fatal(err)
		}
		if got := e.counts(c.ID); got["sent"] != 1 || got["queued"] != 2 {
			t.Fatalf("counts %v; want Shanghai's 1 sent, Berlin's 2 queued", got)
		}
		// Run early, the Berlin batch waits for Berlin's morning again.
		var rl queue.RateLimitError
		if err := e.svc.HandleSendBatch(ctx, asynq.NewTask(held.Type, held.Payload)); !errors.As(err, &rl) || rl.RetryIn != morning.Sub(now) {
			t.Fatalf("Berlin batch at night: %v", err)
		}
		// Redis loses the held task: the reconciler holds it again, in the
		// zone its rows were planned in, not the campaign's.
		if err := e.q.Inspector.DeleteTask(qname, held.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		held = heldBatch(t, e, morning)
		if pending, _ := e.q.Inspector.ListPendingTasks(qname); len(pending) != 1 {
			t.Fatalf("%d pending tasks after reconcile; want only the sent batch's", len(pending))
		}
		now = morning.UTC()
		if err := e.svc.HandleSendBatch(ctx, asynq.NewTask(held.Type, held.Payload)); err != nil {
			t.Fatal(err)
		}
		if got := e.counts(c.ID); got["sent"] != 3 {
			t.Fatalf("counts in Berlin's morning %v", got)
		}
	})
}

// heldBatch returns the one scheduled batch task, checking that it holds
// the Berlin rows until Berlin's morning.
func heldBatch(t *testing.T, e *env, morning time.Time) *asynq.TaskInfo {
	t.Helper()
	tasks, err := e.q.Inspector.ListScheduledTasks(campaigns.QueueName(channels.Devbox))
	if err != nil || len(tasks) != 1 {
		t.Fatalf("scheduled tasks %d, %v; want the Berlin batch held", len(tasks), err)
	}
	if !tasks[0].NextProcessAt.Equal(morning) || batchZone(t, tasks[0]) != "Europe/Berlin" {
		t.Fatalf("held batch due %s in %q, want %s in Europe/Berlin", tasks[0].NextProcessAt, batchZone(t, tasks[0]), morning)
	}
	return tasks[0]
}

func batchZone(t *testing.T, ti *asynq.TaskInfo) string {
	t.Helper()
	var p struct {
		Zone string `json:"tz"`
	}
	if err := json.Unmarshal(ti.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p.Zone
}
