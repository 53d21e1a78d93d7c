package campaigns_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

const buyer = "江南商贸"

type env struct {
	t        *testing.T
	db       *database.DB
	q        *queue.Queue
	svc      *campaigns.Service
	cs       *customers.Store
	ts       *templates.Store
	devbox   *devbox.Channel
	vault    *pii.Vault
	transfer string
	template string
	// inbox counts the receipts the SMS poller applies (sendBySMS).
	inbox *channels.Inbox
}

// newEnv imports four customers (one then erased: skipped by every
// campaign), creates a transfer and installs the default templates.
func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	vault := piitest.Vault(t, db)
	cs := customers.NewStore(db, vault)
	im := importer.New(cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	csv := "姓名,手机,邮箱,地区\n张三,13812345678,zhang@example.com,上海\n李四,13900001111,li@example.com,杭州\n" +
		"王五,13700002222,,上海\n赵六,13600003333,,南京\n"
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != 4 {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE customers SET status = 'erased' WHERE region = '南京'`); err != nil {
		t.Fatal(err)
	}
	tr, ts, tmpl := seedTransfer(t, db, cs, channels.Devbox)
	q := queuetest.Open(t)
	box := devbox.New(db, vault.Keys, nil)
	svc := campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: q, Customers: cs, Templates: ts,
		Channels: map[channels.Name]channels.Channel{channels.Devbox: box}, PublicURL: "https://handover.test", BatchSize: 2})
	return &env{t: t, db: db, q: q, svc: svc, cs: cs, ts: ts, devbox: box, vault: vault, transfer: tr.ID, template: tmpl}
}

// seedTransfer records a transfer to the buyer and installs the default
// templates; it returns the transfer, the templates store and the id of the
// zh-CN transfer notice for ch.
func seedTransfer(tb testing.TB, db *database.DB, cs *customers.Store, ch channels.Name) (*transfers.Transfer, *templates.Store, string) {
	tb.Helper()
	ctx := context.Background()
	tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: buyer, BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
		Purposes: []string{"订单履行"}, DataCategories: []string{"name", "phone", "email"}, RetentionDays: 90}
	if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "cli"); err != nil {
		tb.Fatal(err)
	}
	ts := templates.NewStore(db, cs, transfers.NewStore(db))
	ts.SetPortalURL("https://handover.test")
	if _, err := ts.InstallDefaults(ctx); err != nil {
		tb.Fatal(err)
	}
	list, err := ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: ch, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		tb.Fatalf("default %s template: %d, %v", ch, len(list), err)
	}
	return tr, ts, list[0].ID
}

func (e *env) create(name string) *campaigns.Campaign {
	e.t.Helper()
	c := &campaigns.Campaign{Name: name, TransferID: e.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: e.template}}
	if err := e.svc.Create(context.Background(), c, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// runWorker runs an Asynq worker with the campaign handlers until the test ends.
func (e *env) runWorker() {
	e.t.Helper()
	srv := e.q.NewServer(queue.ServerConfig{Concurrency: 4, Queues: campaigns.Queues(map[channels.Name]channels.Channel{channels.Devbox: nil, channels.Email: nil, channels.SMS: nil}),
		TaskCheckInterval: 20 * time.Millisecond, DelayedTaskCheckInterval: 100 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	mux := asynq.NewServeMux()
	e.svc.Register(mux)
	if err := srv.Start(mux); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(srv.Shutdown)
}

// waitStatus waits until the campaign has status.
func (e *env) waitStatus(id string, status campaigns.Status) *campaigns.Campaign {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := e.svc.FindCampaignByID(context.Background(), id)
		if err != nil {
			e.t.Fatal(err)
		}
		if c.Status == status {
			return c
		}
		if time.Now().After(deadline) {
			counts, _ := rowCounts(context.Background(), e.svc, id)
			e.t.Fatalf("campaign is %s, want %s; deliveries %v", c.Status, status, counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) counts(id string) map[channels.DeliveryStatus]int {
	e.t.Helper()
	m, err := rowCounts(context.Background(), e.svc, id)
	if err != nil {
		e.t.Fatal(err)
	}
	checkProgress(e.t, e.svc, id, m)
	return m
}

// rowCounts is the campaign's deliveries counted by status, row by row.
func rowCounts(ctx context.Context, svc *campaigns.Service, id string) (map[channels.DeliveryStatus]int, error) {
	st, err := svc.Stats(ctx, id)
	if err != nil {
		return nil, err
	}
	return st.ByStatus, nil
}

// checkProgress compares the campaign's counter-based Progress with its
// rows counted (Counts): every scenario that counts rows checks the
// counters too.
func checkProgress(t testing.TB, svc *campaigns.Service, id string, counts map[channels.DeliveryStatus]int) {
	t.Helper()
	p, err := svc.Progress(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[channels.DeliveryStatus]int{}
	for st, n := range counts {
		switch st {
		case "delivered", "bounced":
			st = "sent"
		case "planned":
			st = "queued"
		}
		want[st] += n
	}
	// A receipt may turn a sent row failed: the counters keep it sent.
	if p["sent"]+p["failed"] == want["sent"]+want["failed"] {
		want["sent"], want["failed"] = p["sent"], p["failed"]
	}
	for _, m := range []map[channels.DeliveryStatus]int{p, want} {
		for k, n := range m {
			if n == 0 {
				delete(m, k)
			}
		}
	}
	if !maps.Equal(p, want) {
		t.Errorf("progress %v; the rows say %v", p, want)
	}
}

// messagesOf returns the devbox messages recorded for a campaign.
func (e *env) messagesOf(id string) []devbox.Message {
	e.t.Helper()
	all, err := e.devbox.Find(context.Background(), "", 500)
	if err != nil {
		e.t.Fatal(err)
	}
	ds, _, err := e.svc.FindDeliveries(context.Background(), campaigns.DeliveryFilter{CampaignID: id, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	mine := map[string]bool{}
	for _, d := range ds {
		mine[d.ID] = true
	}
	var out []devbox.Message
	for _, m := range all {
		if mine[m.DeliveryID] {
			out = append(out, m)
		}
	}
	return out
}

func TestCampaignEndToEnd(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("转让告知")
		if c.Status != campaigns.StatusDraft {
			t.Fatalf("new campaign is %s", c.Status)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("second start: %v; want conflict", err)
		}
		e.runWorker()
		done := e.waitStatus(c.ID, campaigns.StatusCompleted)
		if done.Planned != 4 {
			t.Fatalf("planned %d, want 4", done.Planned)
		}
		if got := e.counts(c.ID); got["sent"] != 3 || got["skipped"] != 1 || len(got) != 2 {
			t.Fatalf("counts %v; want 3 sent, 1 skipped", got)
		}
		skipped, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "skipped"})
		if err != nil || len(skipped) != 1 || skipped[0].SkipReason != campaigns.ReasonErased {
			t.Fatalf("skipped: %+v, %v", skipped, err)
		}
		msgs := e.messagesOf(c.ID)
		if len(msgs) != 3 {
			t.Fatalf("devbox recorded %d messages, want 3", len(msgs))
		}
		seen := map[string]bool{}
		for _, m := range msgs {
			if seen[m.CustomerID] {
				t.Fatalf("customer %s got two messages", m.CustomerID)
			}
			seen[m.CustomerID] = true
			if !strings.Contains(m.Text, buyer) || !strings.HasPrefix(m.Link, "https://handover.test/l/") ||
				strings.Contains(m.Link, m.DeliveryID) {
				t.Fatalf("message text %q link %q", m.Text, m.Link)
			}
		}
		// Paging by cursor covers every row once.
		var all []*campaigns.Delivery
		cursor := ""
		for {
			page, next, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Cursor: cursor, Limit: 3})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(all) != 4 {
			t.Fatalf("paged %d deliveries, want 4", len(all))
		}
	})
}

func TestCampaignPauseResumeCancel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		paused, cancelled := e.create("paused"), e.create("cancelled")
		for _, c := range []*campaigns.Campaign{paused, cancelled} {
			if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.svc.Pause(ctx, paused.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Cancel(ctx, cancelled.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Resume(ctx, cancelled.ID, "staff:test"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("resume cancelled: %v; want conflict", err)
		}
		if got := e.counts(cancelled.ID); got["suppressed"] != 3 || got["queued"] != 0 {
			t.Fatalf("cancelled counts %v; want 3 suppressed", got)
		}
		// The worker takes the tasks of both, and sends nothing.
		e.runWorker()
		deadline := time.Now().Add(10 * time.Second)
		for {
			pending, err := e.q.Inspector.GetQueueInfo(campaigns.QueueName(channels.Devbox))
			if err != nil {
				t.Fatal(err)
			}
			if pending.Size == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("tasks left: %+v", pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := len(e.messagesOf(paused.ID)) + len(e.messagesOf(cancelled.ID)); n != 0 {
			t.Fatalf("%d messages sent while paused or cancelled", n)
		}
		if got := e.counts(paused.ID); got["queued"] != 3 {
			t.Fatalf("paused counts %v; want 3 queued", got)
		}
		if err := e.svc.Resume(ctx, paused.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(paused.ID, campaigns.StatusCompleted)
		if n := len(e.messagesOf(paused.ID)); n != 3 {
			t.Fatalf("after resume %d messages, want 3", n)
		}
		if c, _ := e.svc.FindCampaignByID(ctx, cancelled.ID); c.Status != campaigns.StatusCancelled || len(e.messagesOf(cancelled.ID)) != 0 {
			t.Fatalf("cancelled campaign: %s", c.Status)
		}
	})
}

// TestCampaignReconcile loses every task (Redis flushed) and one worker
// (a batch left leased, the lease expired): Reconcile restores the work.
func TestCampaignReconcile(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("reconciled")
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.q.Redis.FlushDB(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		ds, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "queued", Limit: 1})
		if err != nil || len(ds) != 1 {
			t.Fatalf("queued: %v", err)
		}
		// A worker died holding the row's batch: its lease ran out.
		if _, err := db.ExecContext(ctx, `INSERT INTO campaign_batches (campaign_id, batch, attempts, lease_until)
			SELECT campaign_id, batch, 1, $1 FROM deliveries WHERE id = $2`, time.Now().UTC().Add(-time.Minute), ds[0].ID); err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.Reconcile(ctx); err != nil || n != 1 {
			t.Fatalf("reconcile: %d, %v", n, err)
		}
		// A second run while the tasks exist adds nothing.
		if _, err := e.svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		if got := e.counts(c.ID); got["sent"] != 3 {
			t.Fatalf("counts %v; want 3 sent", got)
		}
		if n := len(e.messagesOf(c.ID)); n != 3 {
			t.Fatalf("%d messages, want 3", n)
		}
	})
}
