package campaigns_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// TestSentLinks: every sent message's link is a links row bound to its
// delivery, campaign, transfer and purposes, living as long as the
// campaign says, and opens the portal.
func TestSentLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("links")
		if _, err := e.svc.SetPortalSettings(ctx, c.ID, campaigns.PortalSettings{LinkTTLDays: 7}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		store := links.NewStore(db, e.vault, e.cs, transfers.NewStore(db), 0)
		msgs := e.messagesOf(c.ID)
		if len(msgs) != 3 {
			t.Fatalf("%d messages", len(msgs))
		}
		for _, m := range msgs {
			token := m.Link[strings.LastIndex(m.Link, "/")+1:]
			l, err := store.Open(ctx, token)
			if err != nil {
				t.Fatalf("link %q: %v", m.Link, err)
			}
			if l.CampaignID != c.ID || l.TransferID != e.transfer || l.DeliveryID == "" || len(l.Purposes) != 1 ||
				time.Until(l.ExpiresAt) < 6*24*time.Hour || time.Until(l.ExpiresAt) > 7*24*time.Hour {
				t.Fatalf("link %+v", l)
			}
		}
	})
}

// TestEmailListUnsubscribe: a campaign email carries its link's RFC 8058
// one-click unsubscribe URL.
func TestEmailListUnsubscribe(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dbtest.SQLite(t))
	sink := smtptest.New(t)
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	e.svc = campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test",
		Channels: map[channels.Name]channels.Channel{channels.Email: mail}, BatchSize: 2})
	list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Email, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		t.Fatalf("email template: %v", err)
	}
	c := &campaigns.Campaign{Name: "email", TransferID: e.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: list[0].ID}}
	if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
		t.Fatal(err)
	}
	e.runWorker()
	e.waitStatus(c.ID, campaigns.StatusCompleted)
	if sink.Count() == 0 {
		t.Fatal("no email sent")
	}
	for _, m := range sink.Messages() {
		if !bytes.Contains(m.Data, []byte("List-Unsubscribe: <https://handover.test/l/")) ||
			!bytes.Contains(m.Data, []byte("/unsubscribe>")) || !bytes.Contains(m.Data, []byte("List-Unsubscribe-Post: List-Unsubscribe=One-Click")) {
			t.Fatalf("message headers:\n%s", m.Data[:min(len(m.Data), 1500)])
		}
	}
}
