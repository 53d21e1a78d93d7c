package campaigns_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

func TestQuietHoursUntil(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(d, h, m int) time.Time { return time.Date(2026, 3, d, h, m, 0, 0, cst) }
	night := campaigns.QuietHours{Start: 21 * 60, End: 8 * 60}
	noon := campaigns.QuietHours{Start: 12 * 60, End: 14 * 60}
	for _, tc := range []struct {
		name string
		q    campaigns.QuietHours
		now  time.Time
		want time.Time
	}{
		{"evening held to the morning", night, at(1, 22, 30), at(2, 8, 0)},
		{"at the start", night, at(1, 21, 0), at(2, 8, 0)},
		{"after midnight", night, at(2, 3, 0), at(2, 8, 0)},
		{"at the end it sends", night, at(2, 8, 0), time.Time{}},
		{"daytime sends", night, at(2, 15, 0), time.Time{}},
		{"inside a daytime window", noon, at(2, 12, 59), at(2, 14, 0)},
		{"outside a daytime window", noon, at(2, 11, 59), time.Time{}},
		{"empty window", campaigns.QuietHours{Start: 60, End: 60}, at(2, 1, 0), time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.q.Until(tc.now); !got.Equal(tc.want) {
				t.Fatalf("Until(%s) = %s, want %s", tc.now, got, tc.want)
			}
		})
	}
}

func FuzzParseQuietHours(f *testing.F) {
	for _, s := range []string{"21:00", "08:00", "7:5", "24:00", "", "ab:cd", " 09:30 "} {
		f.Add(s, "08:00")
	}
	f.Fuzz(func(t *testing.T, start, end string) {
		q, err := campaigns.ParseQuietHours(start, end)
		if err != nil {
			return
		}
		for _, m := range []int{q.Start, q.End} {
			if m < 0 || m >= 24*60 {
				t.Fatalf("%q, %q gave %+v", start, end, q)
			}
		}
		if back, err := campaigns.ParseQuietHours(campaigns.Clock(q.Start), campaigns.Clock(q.End)); err != nil || *back != *q {
			t.Fatalf("round trip of %+v: %+v, %v", q, back, err)
		}
	})
}

// customerID finds one of newEnv's customers by region and email.
func (e *env) customerID(region string, withEmail bool) string {
	e.t.Helper()
	var id string
	err := e.db.QueryRowContext(context.Background(), `SELECT id FROM customers WHERE region = $1 AND (email_idx IS NOT NULL) = $2`,
		region, withEmail).Scan(&id)
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// templateOf returns the default zh-CN devbox template of kind.
func (e *env) templateOf(kind templates.Kind) string {
	e.t.Helper()
	list, err := e.ts.FindTemplates(context.Background(), templates.Filter{Kind: kind, Channel: channels.Devbox, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("default %s template: %d, %v", kind, len(list), err)
	}
	return list[0].ID
}

func TestAudienceFiltersAndSkips(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		zhang, li, wang, zhao := e.customerID("上海", true), e.customerID("杭州", true), e.customerID("上海", false), e.customerID("南京", false)
		// 赵六 opted out of everything (a customer-wide opt-out from before
		// kinds): skipped by a survey, not by a transfer notice.
		if _, err := db.ExecContext(ctx, `UPDATE customers SET status = 'opted_out' WHERE id = $1`, zhao); err != nil {
			t.Fatal(err)
		}
		const purpose = "订单履行"
		if _, err := e.cs.RecordConsent(ctx, []customers.ConsentDecision{
			{CustomerID: zhang, TransferID: e.transfer, Purpose: purpose, Decision: customers.ConsentDeclined, Source: customers.SourceStaff, Actor: "staff:test"},
			{CustomerID: li, TransferID: e.transfer, Purpose: purpose, Decision: customers.ConsentGranted, Source: customers.SourceStaff, Actor: "staff:test"},
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO channel_optouts (customer_id, channel, kind, source, created_at) VALUES ($1, 'devbox', '*', 'reply', $2)`,
			wang, db.Now()); err != nil {
			t.Fatal(err)
		}
		survey := e.templateOf(templates.Survey)
		base := func(a campaigns.Audience) *campaigns.Campaign {
			return &campaigns.Campaign{Name: "问卷", TransferID: e.transfer, Kind: templates.Survey, Purpose: purpose,
				Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: survey}, Audience: a}
		}
		for _, tc := range []struct {
			name          string
			a             campaigns.Audience
			count, queued int
			skipped       map[campaigns.SkipReason]int
		}{
			{"everyone", campaigns.Audience{}, 4, 1, map[campaigns.SkipReason]int{campaigns.ReasonConsentDeclined: 1, campaigns.ReasonChannelOptedOut: 1, campaigns.ReasonOptedOut: 1}},
			{"region", campaigns.Audience{Region: "上海"}, 2, 0, map[campaigns.SkipReason]int{campaigns.ReasonConsentDeclined: 1, campaigns.ReasonChannelOptedOut: 1}},
			{"granted", campaigns.Audience{Consent: []campaigns.ConsentFilter{{Purpose: purpose, Decision: customers.ConsentGranted}}}, 1, 1, map[campaigns.SkipReason]int{}},
			{"undecided", campaigns.Audience{Consent: []campaigns.ConsentFilter{{Purpose: purpose, Decision: campaigns.ConsentUndecided}}}, 2, 0,
				map[campaigns.SkipReason]int{campaigns.ReasonChannelOptedOut: 1, campaigns.ReasonOptedOut: 1}},
			{"reachable by email", campaigns.Audience{Reachable: []channels.Name{channels.Email}}, 2, 1, map[campaigns.SkipReason]int{campaigns.ReasonConsentDeclined: 1}},
			{"explicit list", campaigns.Audience{CustomerIDs: []string{li, zhao}}, 2, 1, map[campaigns.SkipReason]int{campaigns.ReasonOptedOut: 1}},
			{"tag nobody has", campaigns.Audience{Tags: []string{"vip"}}, 0, 0, map[campaigns.SkipReason]int{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p, err := e.svc.PreviewAudience(ctx, base(tc.a))
				if err != nil {
					t.Fatal(err)
				}
				if p.Total != tc.count || p.Queued != tc.queued || len(p.SkippedByReason) != len(tc.skipped) {
					t.Fatalf("preview %+v; want count %d, queued %d, skipped %v", p, tc.count, tc.queued, tc.skipped)
				}
				for r, n := range tc.skipped {
					if p.SkippedByReason[r] != n {
						t.Fatalf("skipped %v, want %v", p.SkippedByReason, tc.skipped)
					}
				}
			})
		}
		// A transfer notice goes whatever the consent and the opt-outs.
		notice := base(campaigns.Audience{})
		notice.Kind, notice.Templates[channels.Devbox] = templates.TransferNotice, e.template
		if p, err := e.svc.PreviewAudience(ctx, notice); err != nil || p.Queued != 4 {
			t.Fatalf("notice preview %+v, %v", p, err)
		}
		// The explicit list is stored and planned; an unknown id is refused.
		bad := base(campaigns.Audience{CustomerIDs: []string{li, "nobody"}})
		if err := e.svc.Create(ctx, bad, "staff:test"); err == nil || !strings.Contains(err.Error(), "unknown") {
			t.Fatalf("unknown customer: %v", err)
		}
		c := base(campaigns.Audience{CustomerIDs: []string{li, zhao}})
		if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Plan(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if got := e.counts(c.ID); got["queued"] != 1 || got["skipped"] != 1 || len(got) != 2 {
			t.Fatalf("explicit list planned %v", got)
		}

		// Withdrawing consent suppresses the unsent survey row, not the
		// notice's.
		if err := e.svc.Create(ctx, notice, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Plan(ctx, notice.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.cs.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: li, TransferID: e.transfer, Purpose: purpose,
			Decision: customers.ConsentWithdrawn, Source: customers.SourcePortal, Actor: "customer:" + li}}); err != nil {
			t.Fatal(err)
		}
		n, err := e.svc.SuppressConsent(ctx, li, e.transfer, purpose)
		if err != nil || n != 1 {
			t.Fatalf("suppressed %d, %v; want 1", n, err)
		}
		st, err := e.svc.Stats(ctx, c.ID)
		if err != nil || st.SkippedByReason[campaigns.ReasonConsentWithdrew] != 1 {
			t.Fatalf("survey stats %+v, %v", st, err)
		}
		if got := e.counts(notice.ID); got["queued"] != 4 {
			t.Fatalf("notice counts %v; want its 4 rows still queued", got)
		}
	})
}

func TestQuietHoursHoldTheBatches(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	e := newEnv(t, db)
	cst := time.FixedZone("CST", 8*3600)
	// A night after the real clock's: Asynq holds tasks by the real one.
	now := time.Date(time.Now().Year()+1, 3, 1, 22, 30, 0, 0, cst).UTC()
	db.Now = func() time.Time { return now }
	c := &campaigns.Campaign{Name: "夜间", TransferID: e.transfer, Kind: templates.TransferNotice, Quiet: &campaigns.QuietHours{Start: 21 * 60, End: 8 * 60},
		Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: e.template}}
	if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
		t.Fatal(err)
	}
	if c.TimeZone != campaigns.DefaultTimeZone {
		t.Fatalf("time zone %q", c.TimeZone)
	}
	if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
		t.Fatal(err)
	}
	morning := time.Date(now.Year(), 3, 2, 8, 0, 0, 0, cst)
	tasks, err := e.q.Inspector.ListScheduledTasks(campaigns.QueueName(channels.Devbox))
	if err != nil || len(tasks) != 2 {
		t.Fatalf("scheduled tasks %d, %v; want both batches held", len(tasks), err)
	}
	for _, ti := range tasks {
		if !ti.NextProcessAt.Equal(morning) {
			t.Fatalf("batch due %s, want %s", ti.NextProcessAt, morning)
		}
	}
	// The reconciler sees the held tasks and adds none.
	if _, err := e.svc.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	if tasks, _ := e.q.Inspector.ListScheduledTasks(campaigns.QueueName(channels.Devbox)); len(tasks) != 2 {
		t.Fatalf("after reconcile %d scheduled tasks", len(tasks))
	}
	// A batch run early (Redis lost, then reconciled) waits again.
	task, _ := campaigns.NewSendBatchTask(c.ID, 1, channels.Devbox, campaigns.DefaultTimeZone)
	var rl queue.RateLimitError
	if err := e.svc.HandleSendBatch(ctx, task); !errors.As(err, &rl) || rl.RetryIn != morning.Sub(now) {
		t.Fatalf("batch at night: %v", err)
	}
	if got := e.counts(c.ID); got["queued"] != 3 {
		t.Fatalf("counts at night %v", got)
	}
	now = morning.UTC()
	if err := e.svc.HandleSendBatch(ctx, task); err != nil {
		t.Fatal(err)
	}
	if got := e.counts(c.ID); got["sent"] != 2 {
		t.Fatalf("counts in the morning %v", got)
	}
}

func TestCampaignRateAndChunkedPlan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts,
			Channels: map[channels.Name]channels.Channel{channels.Devbox: e.devbox}, PublicURL: "https://handover.test", BatchSize: 2, PlanChunk: 1})
		c := &campaigns.Campaign{Name: "限速", TransferID: e.transfer, Kind: templates.TransferNotice, Rates: map[channels.Name]int{channels.Devbox: 1},
			Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: e.template}}
		if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		got, err := e.svc.FindCampaignByID(ctx, c.ID)
		if err != nil || got.Planned != 1 || got.PlannedAt != nil {
			t.Fatalf("after the first chunk: %+v, %v", got, err)
		}
		// The first chunk's batch goes at once; at 1 msg/s per campaign the
		// second row of a batch waits.
		task, _ := campaigns.NewSendBatchTask(c.ID, 1, channels.Devbox, "")
		if err := e.svc.HandleSendBatch(ctx, task); err != nil {
			t.Fatal(err)
		}
		// At 1 msg/s a batch of two sends one now and one a second later.
		whole := campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts,
			Channels: map[channels.Name]channels.Channel{channels.Devbox: e.devbox}, BatchSize: 2})
		c2 := &campaigns.Campaign{Name: "限速2", TransferID: e.transfer, Kind: templates.TransferNotice, Rates: map[channels.Name]int{channels.Devbox: 1},
			Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: e.template}}
		if err := whole.Create(ctx, c2, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := whole.Plan(ctx, c2.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		// Its task has half a second: the second row's slot is later, so it
		// waits in the queue; the next run, with time, waits for the slot
		// in the worker and sends it.
		task2, _ := campaigns.NewSendBatchTask(c2.ID, 1, channels.Devbox, "")
		short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		err = whole.HandleSendBatch(short, task2)
		cancel()
		var rl queue.RateLimitError
		if !errors.As(err, &rl) {
			t.Fatalf("batch over the campaign rate in a short task: %v", err)
		}
		if got := e.counts(c2.ID); got["sent"] != 1 || got["queued"] != 2 {
			t.Fatalf("after the short run: %v; want 1 sent, 1 queued in it and 1 in batch 2", got)
		}
		if err := whole.HandleSendBatch(ctx, task2); err != nil {
			t.Fatalf("batch over the campaign rate, paced: %v", err)
		}
		if got := e.counts(c2.ID); got["sent"] != 2 || got["queued"] != 1 {
			t.Fatalf("after the paced run: %v; want batch 1 sent", got)
		}

		// The plan task (and the reconciler, were it lost) plans the rest.
		if _, err := e.q.Inspector.DeleteAllPendingTasks(campaigns.QueueName(channels.Devbox)); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		done := e.waitStatus(c.ID, campaigns.StatusCompleted)
		if done.Planned != 4 || done.PlannedAt == nil {
			t.Fatalf("planned %+v", done)
		}
		if got := e.counts(c.ID); got["sent"] != 3 || got["skipped"] != 1 {
			t.Fatalf("counts %v", got)
		}
	})
}

func TestTestSendIsNotCounted(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	e := newEnv(t, db)
	c := e.create("试发")
	res, err := e.svc.TestSend(ctx, c.ID, channels.Address{Email: "staff@example.com"}, "Staff", "staff:test")
	if err != nil || res.Channel != channels.Devbox || res.ProviderID == "" {
		t.Fatalf("test send: %+v, %v", res, err)
	}
	msgs, err := e.devbox.Find(ctx, "", 10)
	if err != nil || len(msgs) != 1 || !strings.HasPrefix(msgs[0].DeliveryID, "test-") || !strings.Contains(msgs[0].Text, buyer) {
		t.Fatalf("devbox: %+v, %v", msgs, err)
	}
	if got := e.counts(c.ID); len(got) != 0 {
		t.Fatalf("test send counted: %v", got)
	}
}
