package campaigns_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// fleet is worker processes sending campaigns on one channel, each with
// its own Service, channel, Limiter and Asynq server (at the queue's
// default poll intervals and concurrency, as `handover worker` runs),
// sharing the database and Redis.
type fleet struct {
	svc  *campaigns.Service // the first worker's, to start campaigns with
	runs atomic.Int64       // batch task runs, every worker's
}

// startFleet starts workers sending on channel name through open's
// channel, held to rate for sender as cmd/handover wires it.
func startFleet(tb testing.TB, workers int, base campaigns.Config, name channels.Name, sender string, rate int,
	open func() channels.Channel) *fleet {
	tb.Helper()
	f := &fleet{}
	for range workers {
		chs := map[channels.Name]channels.Channel{
			name: channels.NewLimited(open(), channels.NewLimiter(base.Queue.Redis, "handover:rate:"), sender, rate)}
		cfg := base
		cfg.Channels = chs
		svc := campaigns.New(cfg)
		if f.svc == nil {
			f.svc = svc
		}
		mux := asynq.NewServeMux()
		svc.Register(mux)
		countRuns(mux, &f.runs)
		srv := base.Queue.NewServer(queue.ServerConfig{Queues: campaigns.Queues(chs), ShutdownTimeout: 5 * time.Second})
		if err := srv.Start(mux); err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(srv.Shutdown)
	}
	return f
}

// countRuns counts the batch task runs mux's handlers make.
func countRuns(mux *asynq.ServeMux, runs *atomic.Int64) {
	mux.Use(func(h asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
			if t.Type() == campaigns.TypeSendBatch {
				runs.Add(1)
			}
			return h.ProcessTask(ctx, t)
		})
	})
}

// mailer opens an email channel on the SMTP server at url, as a worker
// process does.
func mailer(tb testing.TB, url string) func() channels.Channel {
	return func() channels.Channel {
		mail, err := email.New(email.Config{SMTPURL: url, From: "Handover <notice@example.com>", Timeout: 10 * time.Second})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { _ = mail.Close() })
		return mail
	}
}

// rateEnv is rows imported customers, a transfer and the default templates.
type rateEnv struct {
	db       *database.DB
	cs       *customers.Store
	ts       *templates.Store
	transfer string
	q        *queue.Queue
}

func newRateEnv(tb testing.TB, db *database.DB, rows int) *rateEnv {
	tb.Helper()
	cs := customers.NewStore(db, piitest.Vault(tb, db))
	im := importer.New(cs, filepath.Join(tb.TempDir(), "spool"), nil)
	tb.Cleanup(im.Wait)
	if imp, err := im.Run(context.Background(), campaignCSV(tb, rows), nil, "cli", nil); err != nil || imp.Created != int64(rows) {
		tb.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, _ := seedTransfer(tb, db, cs, channels.Email)
	return &rateEnv{db: db, cs: cs, ts: ts, transfer: tr.ID, q: queuetest.Open(tb)}
}

// customerIDs returns the ids of the first n customers.
func (e *rateEnv) customerIDs(tb testing.TB, n int) []string {
	tb.Helper()
	rows, err := e.db.QueryContext(context.Background(), `SELECT id FROM customers ORDER BY id LIMIT $1`, n)
	if err != nil {
		tb.Fatal(err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			tb.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil || len(ids) != n {
		tb.Fatalf("%d customer ids, %v; want %d", len(ids), err, n)
	}
	return ids
}

// config is the campaigns configuration the fleet's workers share.
func (e *rateEnv) config(batch int) campaigns.Config {
	return campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test", BatchSize: batch}
}

// campaign creates a draft transfer notice on ch to ids (nil: every
// customer), at rate messages per second of its own (0: none).
func (e *rateEnv) campaign(tb testing.TB, svc *campaigns.Service, ch channels.Name, rate int, ids []string) *campaigns.Campaign {
	tb.Helper()
	list, err := e.ts.FindTemplates(context.Background(), templates.Filter{Kind: templates.TransferNotice, Channel: ch, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		tb.Fatalf("default %s template: %v", ch, err)
	}
	c := &campaigns.Campaign{Name: "rate", TransferID: e.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{ch}, Templates: map[channels.Name]string{ch: list[0].ID}, Audience: campaigns.Audience{CustomerIDs: ids}}
	if rate > 0 {
		c.Rates = map[channels.Name]int{ch: rate}
	}
	if err := svc.Create(context.Background(), c, "staff:test"); err != nil {
		tb.Fatal(err)
	}
	return c
}

// waitDone waits for the campaign to complete, for as long as rows take
// at rate and then some.
func waitDone(tb testing.TB, svc *campaigns.Service, id string, rows, rate int) {
	tb.Helper()
	deadline := time.Now().Add(time.Duration(rows/max(1, rate))*2*time.Second + 30*time.Second)
	for {
		c, err := svc.FindCampaignByID(context.Background(), id)
		if err != nil {
			tb.Fatal(err)
		}
		if c.Status == campaigns.StatusCompleted {
			return
		}
		if time.Now().After(deadline) {
			p, _ := svc.Progress(context.Background(), id)
			tb.Fatalf("campaign still %s: %v", c.Status, p)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkPacedSends checks that the provider got one message per customer,
// that every delivery is sent at its first attempt, and that each batch
// task ran once: no batch went back to the queue to wait for a rate.
func checkPacedSends(t *testing.T, db *database.DB, f *fleet, got int, id string, rows, batches int) {
	t.Helper()
	if got != rows {
		t.Fatalf("the provider got %d messages for %d customers", got, rows)
	}
	var sent, other int
	if err := db.QueryRowContext(context.Background(), `SELECT SUM(CASE WHEN status = 'sent' AND attempts = 1 THEN 1 ELSE 0 END),
		SUM(CASE WHEN status = 'sent' AND attempts = 1 THEN 0 ELSE 1 END) FROM deliveries WHERE campaign_id = $1`, id).Scan(&sent, &other); err != nil {
		t.Fatal(err)
	}
	if sent != rows || other != 0 {
		t.Fatalf("%d deliveries sent at the first attempt, %d otherwise; want all %d at the first", sent, other, rows)
	}
	if runs := f.runs.Load(); runs != int64(batches) {
		t.Fatalf("%d batch task runs for %d batches: a batch waited in the queue for the rate", runs, batches)
	}
}

// TestCampaignKeepsTheDefaultRates sends a campaign on each channel
// through three worker processes held to the rate a default configuration
// gives (HANDOVER_EMAIL_RATE, HANDOVER_SMS_RATE, HANDOVER_WECHAT_RATE), at
// the queue's default poll intervals, into an SMTP server and the Aliyun
// and WeChat fakes through their SDKs: every customer gets one message,
// and every batch is sent in one run of its task, paced in the worker.
func TestCampaignKeepsTheDefaultRates(t *testing.T) {
	cfg, err := config.Load(nil)
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newRateEnv(t, db, 3*cfg.EmailRate)
		providerCodes(t, db)
		for _, tc := range []struct {
			ch   channels.Name
			rate int
		}{{channels.Email, cfg.EmailRate}, {channels.SMS, cfg.SMSRate}, {channels.WeChat, cfg.WeChatRate}} {
			t.Run(string(tc.ch), func(t *testing.T) {
				rows, batch := 3*tc.rate, tc.rate/2 // three seconds' worth, in six batches
				p := newProvider(t, e, tc.ch)
				f := startFleet(t, 3, e.config(batch), tc.ch, p.sender, tc.rate, p.open)
				c := e.campaign(t, f.svc, tc.ch, 0, e.customerIDs(t, rows))
				if err := f.svc.Start(context.Background(), c.ID, "staff:test"); err != nil {
					t.Fatal(err)
				}
				waitDone(t, f.svc, c.ID, rows, tc.rate)
				checkPacedSends(t, db, f, p.count(), c.ID, rows, rows/batch)
			})
		}
	})
}

// TestCampaignKeepsItsOwnRate sends an email campaign held to 4 messages a
// second of its own, under the default shared email rate, by three
// workers: every batch is paced in one run of its task.
func TestCampaignKeepsItsOwnRate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		const rows, batch, rate = 12, 4, 4
		e := newRateEnv(t, db, rows)
		p := newProvider(t, e, channels.Email)
		f := startFleet(t, 3, e.config(batch), channels.Email, p.sender, 200, p.open)
		c := e.campaign(t, f.svc, channels.Email, rate, nil)
		if err := f.svc.Start(context.Background(), c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		waitDone(t, f.svc, c.ID, rows, rate)
		checkPacedSends(t, db, f, p.count(), c.ID, rows, rows/batch)
	})
}

// TestCampaignPace reports the rate in force per channel (the lower of the
// campaign's own and the channel's shared rate) and, while it runs, how
// long its queued rows take at it.
func TestCampaignPace(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		limited := channels.NewLimited(e.devbox, channels.NewLimiter(e.q.Redis, "test"), "test", 2)
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts,
			Channels: map[channels.Name]channels.Channel{channels.Devbox: limited}, PublicURL: "https://handover.test"})
		c := e.create("pace")
		p, err := e.svc.Pace(ctx, c, 0)
		if err != nil || p.Rates[channels.Devbox] != 2 || p.ETA != nil {
			t.Fatalf("draft pace %+v, %v; want 2/s and no ETA", p, err)
		}
		c.Rates = map[channels.Name]int{channels.Devbox: 10}
		if p, _ := e.svc.Pace(ctx, c, 0); p.Rates[channels.Devbox] != 2 {
			t.Fatalf("a campaign rate above the channel's: %d in force; want 2", p.Rates[channels.Devbox])
		}
		c.Rates = map[channels.Name]int{channels.Devbox: 1}
		if p, _ := e.svc.Pace(ctx, c, 0); p.Rates[channels.Devbox] != 1 {
			t.Fatalf("a campaign rate below the channel's: %d in force; want 1", p.Rates[channels.Devbox])
		}
		// Started with no worker: its 3 rows stay queued, 1.5 s at 2/s.
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if c, err = e.svc.FindCampaignByID(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		counts, err := e.svc.Progress(ctx, c.ID)
		if err != nil || counts["queued"] != 3 {
			t.Fatalf("progress %v, %v", counts, err)
		}
		p, err = e.svc.Pace(ctx, c, counts["queued"])
		if err != nil || p.ETA == nil || *p.ETA != 2*time.Second || *p.ETASeconds() != 2 {
			t.Fatalf("running pace %+v, %v; want an ETA of 3 rows at 2/s, rounded", p, err)
		}
	})
}

// TestCampaignPacingStopsInTime runs a batch whose rate outlasts its
// task's time: each run stops pacing in time to record what it sent, the
// rest waits in the queue for the next run, and every customer gets one
// message at one attempt.
func TestCampaignPacingStopsInTime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("slow")
		if _, err := db.ExecContext(ctx, `UPDATE campaigns SET rates = '{"devbox":1}' WHERE id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Plan(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		task, _ := campaigns.NewSendBatchTask(c.ID, 1, channels.Devbox, "")
		runs := 0
		for ; runs < 10; runs++ {
			short, cancel := context.WithTimeout(ctx, time.Second)
			err := e.svc.HandleSendBatch(short, task)
			cancel()
			var rl queue.RateLimitError
			if err == nil {
				break
			} else if !errors.As(err, &rl) {
				t.Fatalf("run %d: %v", runs, err)
			}
			time.Sleep(rl.RetryIn) // as the queue waits
		}
		if runs < 1 || runs == 10 {
			t.Fatalf("%d runs of 1 s for 2 rows at 1/s", runs+1)
		}
		if n := len(e.messagesOf(c.ID)); n != 2 {
			t.Fatalf("%d messages for the batch's 2 customers", n)
		}
		e.sentAtFirstAttempt(c.ID, 2)
	})
}

// sentAtFirstAttempt checks that the campaign sent n deliveries, each at
// its first attempt: waits for a rate do not count as attempts.
func (e *env) sentAtFirstAttempt(id string, n int) {
	e.t.Helper()
	ds, _, err := e.svc.FindDeliveries(context.Background(), campaigns.DeliveryFilter{CampaignID: id, Status: "sent"})
	if err != nil || len(ds) != n {
		e.t.Fatalf("sent: %d, %v; want %d", len(ds), err, n)
	}
	for _, d := range ds {
		if d.Attempts != 1 {
			e.t.Fatalf("delivery attempts %d; a wait for the rate must not count", d.Attempts)
		}
	}
}
