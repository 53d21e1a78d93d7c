package channels_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestRepliesAreTiedToTheLatestMessageUnderTheirSignName: an SMS reply
// names only the phone and the sign name; it belongs to the latest message
// sent to that phone under that sign name.
func TestRepliesAreTiedToTheLatestMessageUnderTheirSignName(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := queuetest.Open(t)
		v := piitest.Vault(t, db)
		log := queuetest.Logger(t)
		sent := channels.NewSentLog(db, v.Index, log)
		signOf := func(m channels.Message) string { return m.Template.SignName }
		ch := channels.NewLogged(devbox.New(db, v.Keys, nil), sent, signOf)
		phone := channels.Address{Phone: "+8613812345678"}
		for _, m := range []channels.Message{
			{DeliveryID: "d-old", CustomerID: "c1", To: phone, Text: "1", Template: &channels.Template{SignName: "华东五金"}},
			{DeliveryID: "d-new", CustomerID: "c1", To: phone, Text: "2", Template: &channels.Template{SignName: "华东五金"}},
			{DeliveryID: "d-other", CustomerID: "c2", To: phone, Text: "3", Template: &channels.Template{SignName: "江南商贸"}},
		} {
			if r := ch.Send(ctx, []channels.Message{m}); r[0].Err != nil {
				t.Fatal(r[0].Err)
			}
		}

		got := map[string]channels.InboundEvent{}
		done := make(chan struct{}, 3)
		in, err := channels.NewInbox(channels.InboxConfig{DB: db, Vault: v, Queue: q, Log: log, Sent: sent,
			Match: func(context.Context, channels.Address) (string, error) { return "matched-by-phone", nil },
			OnEvent: func(_ context.Context, ev channels.InboundEvent) error {
				got[ev.To] = ev
				done <- struct{}{}
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := in.Record(ctx, []channels.InboundEvent{
			{Channel: channels.Devbox, Kind: channels.EventMessage, DedupKey: "1", From: phone, To: "华东五金", Text: "TD"},
			{Channel: channels.Devbox, Kind: channels.EventMessage, DedupKey: "2", From: phone, To: "江南商贸", Text: "好的"},
			{Channel: channels.Devbox, Kind: channels.EventMessage, DedupKey: "3", From: phone, To: "未知签名", Text: "?"},
		}); err != nil {
			t.Fatal(err)
		}
		srv := q.NewServer(queue.ServerConfig{Concurrency: 1})
		mux := asynq.NewServeMux()
		in.Register(mux)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown()
		for range 3 {
			<-done
		}
		if e := got["华东五金"]; e.DeliveryID != "d-new" || e.CustomerID != "c1" {
			t.Errorf("reply under 华东五金 tied to %q/%q, want d-new/c1", e.DeliveryID, e.CustomerID)
		}
		if e := got["江南商贸"]; e.DeliveryID != "d-other" || e.CustomerID != "c2" {
			t.Errorf("reply under 江南商贸 tied to %q/%q, want d-other/c2", e.DeliveryID, e.CustomerID)
		}
		if e := got["未知签名"]; e.DeliveryID != "" || e.CustomerID != "matched-by-phone" {
			t.Errorf("reply under an unknown sign name: %q/%q, want no delivery and the phone match", e.DeliveryID, e.CustomerID)
		}
	})
}
