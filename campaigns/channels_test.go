package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// TestCampaignRateLimited sends through the devbox held to one message a
// second by the shared Redis limiter: rows over the rate wait for their
// slot without using up an attempt, and every customer gets one message.
func TestCampaignRateLimited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		limited := channels.NewLimited(e.devbox, channels.NewLimiter(e.q.Redis, "test"), "test", 1)
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts,
			Channels: map[channels.Name]channels.Channel{channels.Devbox: limited}, PublicURL: "https://handover.test", BatchSize: 2})
		c := e.create("limited")
		start := time.Now()
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		if took := time.Since(start); took < 900*time.Millisecond {
			t.Fatalf("3 messages at 1/s took %s", took)
		}
		e.sentAtFirstAttempt(c.ID, 3)
		if n := len(e.messagesOf(c.ID)); n != 3 {
			t.Fatalf("%d messages, want 3", n)
		}
	})
}

// TestCampaignFallback sends by email first, then devbox: the customer
// without an email goes to the devbox at planning, and the one whose
// address the SMTP server refuses (550) falls back to the devbox.
func TestCampaignFallback(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		sink := smtptest.New(t)
		sink.Reject("li@example.com", 550, "5.1.1 User unknown")
		mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mail.Close() })
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test",
			Channels: map[channels.Name]channels.Channel{channels.Devbox: e.devbox, channels.Email: mail}, BatchSize: 2})
		list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Email, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("email template: %v", err)
		}
		c := &campaigns.Campaign{Name: "fallback", TransferID: e.transfer, Kind: templates.TransferNotice,
			Channels:  []channels.Name{channels.Email, channels.Devbox},
			Templates: map[channels.Name]string{channels.Email: list[0].ID, channels.Devbox: e.template}}
		if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		li, berlin := e.customerID("杭州", true), "Europe/Berlin"
		if _, err := e.cs.UpdateCustomer(ctx, li, customers.CustomerUpdate{TimeZone: &berlin}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		// The row falling back to the devbox keeps the zone it is held in.
		var ch, zone string
		if err := db.QueryRowContext(ctx, `SELECT channel, time_zone FROM deliveries WHERE campaign_id = $1 AND customer_id = $2`,
			c.ID, li).Scan(&ch, &zone); err != nil || ch != "devbox" || zone != berlin {
			t.Fatalf("fallen-back row on %q in %q, %v; want devbox in %s", ch, zone, err, berlin)
		}
		if got := e.counts(c.ID); got["sent"] != 3 || got["skipped"] != 1 {
			t.Fatalf("counts %v; want 3 sent, 1 skipped", got)
		}
		if sink.Count() != 1 || sink.Messages()[0].To[0] != "zhang@example.com" {
			t.Fatalf("email sink got %d messages", sink.Count())
		}
		if n := len(e.messagesOf(c.ID)); n != 2 {
			t.Fatalf("devbox got %d messages, want 2", n)
		}
		ds, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.ID, Status: "sent"})
		if err != nil {
			t.Fatal(err)
		}
		byChannel := map[string]int{}
		for _, d := range ds {
			byChannel[d.Channel]++
			if d.Channel == "devbox" && d.TemplateID != e.template {
				t.Fatalf("devbox delivery rendered from %s", d.TemplateID)
			}
		}
		if byChannel["email"] != 1 || byChannel["devbox"] != 2 {
			t.Fatalf("sent by channel %v", byChannel)
		}
	})
}
