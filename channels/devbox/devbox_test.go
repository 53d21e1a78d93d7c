package devbox_test

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
)

func TestDevboxRecordsAndSimulates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		v := piitest.Vault(t, db)
		in := inboxtest.New(t, db, v, queuetest.Embedded(t))
		box := devbox.New(db, v.Keys, in.Record)
		msgs := []channels.Message{
			{DeliveryID: "d1", CustomerID: "c1", Kind: channels.Notice, To: channels.Address{Phone: "+8613812345678"}, Text: "您好，张三", Link: "http://x/l/abc"},
			{DeliveryID: "d2", CustomerID: "c2", Kind: channels.Notice, To: channels.Address{Email: "li@example.com"}, Subject: "通知", Text: "您好"},
		}
		res := box.Send(ctx, msgs)
		if len(res) != 2 || res[0].Err != nil || res[0].ProviderID == "" || res[1].DeliveryID != "d2" {
			t.Fatalf("send results = %+v", res)
		}
		got, err := box.Find(ctx, "d1", 10)
		if err != nil || len(got) != 1 || got[0].Text != "您好，张三" || got[0].Link != "http://x/l/abc" || got[0].To.Phone != "+8613812345678" {
			t.Fatalf("find = %+v, %v", got, err)
		}
		var receipts int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE kind = 'receipt' AND status = 'delivered'`).Scan(&receipts)
		if receipts != 2 {
			t.Fatalf("%d simulated receipts, want 2", receipts)
		}
		if err := box.SimulateReply(ctx, "d1", "退订"); err != nil {
			t.Fatal(err)
		}
		if err := box.SimulateReply(ctx, "nope", "x"); err == nil {
			t.Fatal("reply to an unknown delivery accepted")
		}
		var replies int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE kind = 'message' AND delivery_id = 'd1'`).Scan(&replies)
		if replies != 1 {
			t.Fatalf("%d replies recorded, want 1", replies)
		}
	})
}
