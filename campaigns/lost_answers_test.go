package campaigns_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// TestReliabilitySMSLostAnswers sends an SMS campaign through the real
// Aliyun SDK to a fake that loses the answer to one call in twenty (the
// messages went out; the worker hears nothing). Without a check every row
// of a lost answer is sent again; with the SMS channel as the campaign's
// SentChecker (QuerySendDetails before a resend) duplicates fall by at
// least 90% (to none here), and no recipient is lost.
func TestReliabilitySMSLostAnswers(t *testing.T) {
	e := newRelEnv(t, dbtest.SQLite(t))
	ctx := context.Background()
	list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN"})
	if err != nil || len(list) != 1 {
		t.Fatalf("default SMS template: %d, %v", len(list), err)
	}
	content := list[0].Content
	content.SMS.TemplateCode = "SMS_100"
	if _, err := e.ts.UpdateTemplate(ctx, list[0].ID, templates.Update{Content: content}, "staff:test"); err != nil {
		t.Fatal(err)
	}
	run := func(check bool) (dups int) {
		fake := smsfake.New(t)
		ch, err := sms.New(fake.Config())
		if err != nil {
			t.Fatal(err)
		}
		var checkers map[channels.Name]campaigns.SentChecker
		if check {
			checkers = map[channels.Name]campaigns.SentChecker{channels.SMS: ch}
		}
		// One call in twenty: a batch call's answer covers relBatch rows.
		for i := 0; i < relRecipients; i += 20 * relBatch {
			fake.LoseAnswer(fmt.Sprintf("139%08d", i))
		}
		svc := campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test",
			Channels: map[channels.Name]channels.Channel{channels.SMS: ch}, BatchSize: relBatch, SentCheckers: checkers})
		c := &campaigns.Campaign{Name: "sms lost answers", TransferID: e.transfer, Kind: templates.TransferNotice,
			Channels: []channels.Name{channels.SMS}, Templates: map[channels.Name]string{channels.SMS: list[0].ID}}
		if err := svc.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		stop := e.worker(svc, context.Background())
		e.finish(svc, c.ID, 30*time.Second)
		stop()
		per := map[string]int{}
		for _, m := range fake.Messages() {
			per[m.Phone]++
		}
		for i := range relRecipients {
			switch n := per[fmt.Sprintf("139%08d", i)]; {
			case n == 0:
				t.Errorf("check %v: recipient %d got no message", check, i)
			case n > 1:
				dups += n - 1
			}
		}
		return dups
	}
	before, after := run(false), run(true)
	t.Logf("5%% of SMS answers lost: %d duplicates without the check, %d with it", before, after)
	if before == 0 {
		t.Fatal("no duplicates without the check: the fake lost no answer")
	}
	if after*10 > before {
		t.Errorf("%d duplicates with the check, %d without; want a fall of at least 90%%", after, before)
	}
}
