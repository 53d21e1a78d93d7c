package campaigns_test

import (
	"context"
	"slices"
	"testing"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// TestOptOutReplyStopsWhatItSays: a customer who replies "TD" by SMS
// while a promotional campaign is running loses that message and gets no
// survey by SMS, but still gets the transfer notice and the incident
// notice the law requires; a customer opted out of everything (before
// kinds) likewise; another customer gets all four. Checked at the Aliyun
// fake, through the real SDK: what the provider received.
func TestOptOutReplyStopsWhatItSays(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		fake := smsfake.New(t)
		ch, err := sms.New(fake.Config())
		if err != nil {
			t.Fatal(err)
		}
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts, PublicURL: "https://handover.test",
			Channels: map[channels.Name]channels.Channel{channels.SMS: ch}, BatchSize: 2})
		zhang, li, zhao := e.customerID("上海", true), e.customerID("杭州", true), e.customerID("南京", false)
		if _, err := db.ExecContext(ctx, `UPDATE customers SET status = 'opted_out' WHERE id = $1`, zhao); err != nil {
			t.Fatal(err)
		}
		codes := map[templates.Kind]string{templates.TransferNotice: "SMS_TRANSFER", templates.IncidentNotice: "SMS_INCIDENT",
			templates.Survey: "SMS_SURVEY", templates.Generic: "SMS_PROMO"}
		camps := map[templates.Kind]*campaigns.Campaign{}
		for _, kind := range []templates.Kind{templates.Generic, templates.TransferNotice, templates.IncidentNotice, templates.Survey} {
			list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: kind, Channel: channels.SMS, Locale: "zh-CN"})
			if err != nil || len(list) != 1 {
				t.Fatalf("default SMS %s template: %d, %v", kind, len(list), err)
			}
			content := list[0].Content
			content.SMS.TemplateCode = codes[kind]
			if _, err := e.ts.UpdateTemplate(ctx, list[0].ID, templates.Update{Content: content}, "staff:test"); err != nil {
				t.Fatal(err)
			}
			c := &campaigns.Campaign{Name: string(kind), TransferID: e.transfer, Kind: kind, Channels: []channels.Name{channels.SMS},
				Templates: map[channels.Name]string{channels.SMS: list[0].ID}, Audience: campaigns.Audience{CustomerIDs: []string{zhang, li, zhao}}}
			if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
				t.Fatal(err)
			}
			camps[kind] = c
		}
		// The promotional campaign is planned; then 张三 replies TD by SMS.
		if err := e.svc.Start(ctx, camps[templates.Generic].ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		td := channels.InboundEvent{Channel: channels.SMS, Kind: channels.EventMessage, Text: " TD\n", CustomerID: zhang}
		if err := e.svc.HandleInboundEvent(ctx, td); err != nil {
			t.Fatal(err)
		}
		// What the feedback service records for the same reply.
		if _, err := e.cs.AddOptOuts(ctx, zhang, customers.OptOutsOf(channels.SMS, customers.ReplyOptOutKinds), customers.SourceReply, "customer:"+zhang); err != nil {
			t.Fatal(err)
		}
		for _, kind := range []templates.Kind{templates.TransferNotice, templates.IncidentNotice, templates.Survey} {
			if err := e.svc.Start(ctx, camps[kind].ID, "staff:test"); err != nil {
				t.Fatal(err)
			}
		}
		e.runWorker()
		for _, c := range camps {
			e.waitStatus(c.ID, campaigns.StatusCompleted)
		}
		got := map[string][]string{}
		for _, m := range fake.Messages() {
			got[m.Phone] = append(got[m.Phone], m.TemplateCode)
		}
		for phone, want := range map[string][]string{
			"13812345678": {"SMS_INCIDENT", "SMS_TRANSFER"},                            // 张三, TD by SMS
			"13600003333": {"SMS_INCIDENT", "SMS_TRANSFER"},                            // 赵六, opted out of everything
			"13900001111": {"SMS_INCIDENT", "SMS_PROMO", "SMS_SURVEY", "SMS_TRANSFER"}, // 李四
		} {
			slices.Sort(got[phone])
			if !slices.Equal(got[phone], want) {
				t.Errorf("%s received %v; want %v", phone, got[phone], want)
			}
		}
		sup, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: camps[templates.Generic].ID, Status: "suppressed"})
		if err != nil || len(sup) != 1 || sup[0].CustomerID != zhang || sup[0].SkipReason != campaigns.ReasonCustomerOptedOut {
			t.Fatalf("suppressed: %+v, %v", sup, err)
		}
		skipped, _, err := e.svc.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: camps[templates.Survey].ID, Status: "skipped"})
		reasons := map[string]campaigns.SkipReason{}
		for _, d := range skipped {
			reasons[d.CustomerID] = d.SkipReason
		}
		if err != nil || len(reasons) != 2 || reasons[zhang] != campaigns.ReasonChannelOptedOut || reasons[zhao] != campaigns.ReasonOptedOut {
			t.Fatalf("survey skipped: %v, %v", reasons, err)
		}
		for _, kw := range []string{"退订", "T", "Unsubscribe", "STOP", " stop "} {
			if !campaigns.IsOptOut(kw) {
				t.Fatalf("%q is an opt-out", kw)
			}
		}
		if campaigns.IsOptOut("stop it") || campaigns.IsOptOut("") {
			t.Fatal("not opt-outs")
		}
	})
}

// TestOptOutKind: the notices the law requires are of no kind an opt-out
// stops; the rest each belong to one.
func TestOptOutKind(t *testing.T) {
	for kind, want := range map[templates.Kind]string{
		templates.TransferNotice: "", templates.IncidentNotice: "", templates.Survey: customers.OptOutSurvey,
		templates.ConsentRequest: customers.OptOutService, templates.DetailCheck: customers.OptOutService, templates.Generic: customers.OptOutPromotional,
	} {
		if got := campaigns.OptOutKind(kind); got != want {
			t.Errorf("OptOutKind(%s) = %q, want %q", kind, got, want)
		}
	}
}
