package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// TestRepliesFindTheirCampaignMessage: campaign sends are not written to
// the sent log; a reply by SMS still finds the campaign message it
// answers, by the sender's phone and the sign name it came under (the
// template version's, else the configured one), and a later logged send
// (a staff reply) wins over both. Wired as serve wires it: the SMS channel
// through the real SDK into the Aliyun fake, wrapped in the sent log.
func TestRepliesFindTheirCampaignMessage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		fake := smsfake.New(t)
		ch, err := sms.New(fake.Config())
		if err != nil {
			t.Fatal(err)
		}
		sent := channels.NewSentLog(db, e.vault.Index, nil)
		signOf := func(m channels.Message) string {
			if m.Template != nil && m.Template.SignName != "" {
				return m.Template.SignName
			}
			return smsfake.SignName
		}
		logged := channels.NewLogged(ch, sent, signOf)
		e.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: e.cs, Templates: e.ts,
			PublicURL: "https://handover.test", Channels: map[channels.Name]channels.Channel{channels.SMS: logged}, BatchSize: 2,
			Sent: sent, SMSSignName: smsfake.SignName})
		e.runWorker()
		zhang, li := e.customerID("上海", true), e.customerID("杭州", true)
		list, err := e.ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("default SMS template: %d, %v", len(list), err)
		}
		tmpl := list[0]
		// Version 2 of the template names no sign name (the configured one
		// is used); version 3 names the buyer's.
		send := func(sign string) *campaigns.Campaign {
			content := tmpl.Content
			content.SMS.TemplateCode, content.SMS.SignName = "SMS_TRANSFER", sign
			if _, err := e.ts.UpdateTemplate(ctx, tmpl.ID, templates.Update{Content: content}, "staff:test"); err != nil {
				t.Fatal(err)
			}
			c := &campaigns.Campaign{Name: "notice " + sign, TransferID: e.transfer, Kind: templates.TransferNotice, Channels: []channels.Name{channels.SMS},
				Templates: map[channels.Name]string{channels.SMS: tmpl.ID}, Audience: campaigns.Audience{CustomerIDs: []string{zhang, li}}}
			if err := e.svc.Create(ctx, c, "staff:test"); err != nil {
				t.Fatal(err)
			}
			if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
				t.Fatal(err)
			}
			e.waitStatus(c.ID, campaigns.StatusCompleted)
			return c
		}
		first := send("")
		time.Sleep(5 * time.Millisecond) // sent_at orders them
		second := send(buyer)

		signs := map[string]int{}
		for _, m := range fake.Messages() {
			if m.Phone == "13812345678" {
				signs[m.SignName]++
			}
		}
		if signs[smsfake.SignName] != 1 || signs[buyer] != 1 || len(signs) != 2 {
			t.Fatalf("the fake received 张三's messages under %v; want one under %s and one under %s", signs, smsfake.SignName, buyer)
		}
		var logged0 int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sent_messages`).Scan(&logged0); err != nil || logged0 != 0 {
			t.Fatalf("sent log rows after campaign sends: %d, %v; want none", logged0, err)
		}
		deliveryOf := func(c *campaigns.Campaign, customer string) string {
			var id string
			if err := db.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE campaign_id = $1 AND customer_id = $2`, c.ID, customer).Scan(&id); err != nil {
				t.Fatal(err)
			}
			return id
		}
		phone := channels.Address{Phone: "+8613812345678"}
		for _, tc := range []struct {
			name     string
			channel  channels.Name
			from     channels.Address
			sender   string
			delivery string
		}{
			{"under the configured sign name", channels.SMS, phone, smsfake.SignName, deliveryOf(first, zhang)},
			{"under the template's sign name", channels.SMS, phone, buyer, deliveryOf(second, zhang)},
			{"under any sign name", channels.SMS, phone, "", deliveryOf(second, zhang)},
			{"under a sign name never used", channels.SMS, phone, "未知签名", ""},
			{"another customer", channels.SMS, channels.Address{Phone: "+8613900001111"}, buyer, deliveryOf(second, li)},
			{"a phone never sent to", channels.SMS, channels.Address{Phone: "+8613700002222"}, "", ""},
			{"by email, where nothing was sent", channels.Email, channels.Address{Email: "zhang@example.com"}, "", ""},
		} {
			got, err := sent.Latest(ctx, tc.channel, tc.from, tc.sender)
			if err != nil || got.DeliveryID != tc.delivery || tc.delivery != "" && got.CustomerID == "" {
				t.Errorf("%s: %+v, %v; want delivery %q", tc.name, got, err, tc.delivery)
			}
		}

		// A staff reply is logged; being later, it is what the next reply answers.
		time.Sleep(5 * time.Millisecond)
		if r := logged.Send(ctx, []channels.Message{{DeliveryID: "reply-1", CustomerID: zhang, Kind: channels.Reply, To: phone, Text: "好的",
			Template: &channels.Template{TemplateCode: "SMS_REPLY", Params: map[string]string{"text": "好的"}}}}); r[0].Err != nil {
			t.Fatal(r[0].Err)
		}
		if got, err := sent.Latest(ctx, channels.SMS, phone, smsfake.SignName); err != nil || got.DeliveryID != "reply-1" {
			t.Fatalf("after a staff reply: %+v, %v; want reply-1", got, err)
		}
		if got, err := sent.Latest(ctx, channels.SMS, phone, buyer); err != nil || got.DeliveryID != deliveryOf(second, zhang) {
			t.Fatalf("under %s after a staff reply under %s: %+v, %v", buyer, smsfake.SignName, got, err)
		}
	})
}
