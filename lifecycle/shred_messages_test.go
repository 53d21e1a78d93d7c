package lifecycle_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestErasureReachesMessagesInBackups records a reply and a devbox message
// for two customers, takes a data backup, erases one customer, and
// restores the backup with the key store: the erased customer's reply and
// devbox record are unreadable, the other's read; the live database holds
// none of the erased customer's messages, matched or not.
func TestErasureReachesMessagesInBackups(t *testing.T) {
	ctx := context.Background()
	master, _ := masterkey.Parse(masterkey.Generate())
	live := t.TempDir()
	db, vault := openDataDir(t, live, master)
	w := seedWith(t, db, vault)
	erased, kept := w.ids[phones[0]], w.ids[phones[1]]

	q := queuetest.Open(t)
	log := queuetest.Logger(t)
	in, err := channels.NewInbox(channels.InboxConfig{DB: db, Vault: vault, Queue: q, Log: log, Sent: channels.NewSentLog(db, vault.Index, log),
		Match: func(ctx context.Context, from channels.Address) (string, error) {
			return w.ids[from.Phone[len("+86"):]], nil
		},
		// Only the matching and sealing under the customer's key matter here.
		OnEvent: func(context.Context, channels.InboundEvent) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = in.Record(ctx, []channels.InboundEvent{
		{Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "r0", From: channels.Address{Phone: "+86" + phones[0]}, Text: "请改地址到杭州西湖"},
		{Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "r1", From: channels.Address{Phone: "+86" + phones[1]}, Text: "收到谢谢"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := q.NewServer(queue.ServerConfig{Concurrency: 1})
	mux := asynq.NewServeMux()
	in.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var n int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE state = 'matched'`).Scan(&n)
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events matched", n)
		}
	}
	srv.Shutdown()
	ids := eventIDs(t, db, erased, kept)
	box := devbox.New(db, vault.Keys, nil)
	for _, r := range box.Send(ctx, []channels.Message{
		{DeliveryID: "d0", CustomerID: erased, To: channels.Address{Phone: "+86" + phones[0]}, Text: "您的新联系人"},
		{DeliveryID: "d1", CustomerID: kept, To: channels.Address{Phone: "+86" + phones[1]}, Text: "您的新联系人"},
	}) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	// A later reply from the erased customer's phone, never matched.
	if _, err := in.Record(ctx, []channels.InboundEvent{{Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "r2",
		From: channels.Address{Phone: "+86" + phones[0]}, Text: "还在吗"}}); err != nil {
		t.Fatal(err)
	}
	dataBackup := backup(t, db, live, lifecycle.BackupData, master)

	if _, err := w.customers.EraseCustomer(ctx, erased, "staff:dpo", "客户要求删除"); err != nil {
		t.Fatal(err)
	}
	var left int
	db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM inbound_events WHERE customer_id = $1 OR dedup_key IN ($2, $3))
		+ (SELECT COUNT(*) FROM devbox_messages WHERE customer_id = $1)`, erased, vault.Index.Dedup("r0"), vault.Index.Dedup("r2")).Scan(&left)
	if left != 0 {
		t.Errorf("%d messages of the erased customer left in the live database", left)
	}
	keysBackup := backup(t, db, live, lifecycle.BackupKeys, master)

	restored := restoreAll(t, master, dataBackup, keysBackup)
	db2, vault2 := openDataDir(t, restored, master)
	in2 := inboxtest.New(t, db2, vault2, q)
	if _, _, err := in2.FindEventByID(ctx, ids[erased]); handover.ErrorCode(err) != handover.ENOTFOUND {
		t.Errorf("the erased customer's reply after restore: %v", err)
	}
	if ev, _, err := in2.FindEventByID(ctx, ids[kept]); err != nil || ev.Text != "收到谢谢" {
		t.Errorf("the kept customer's reply after restore: %+v %v", ev, err)
	}
	msgs, err := devbox.New(db2, vault2.Keys, nil).Find(ctx, "", 10)
	if err != nil || len(msgs) != 1 || msgs[0].CustomerID != kept || msgs[0].Text != "您的新联系人" {
		t.Errorf("devbox after restore: %+v %v", msgs, err)
	}
}

// eventIDs maps each customer to the id of their matched inbound event.
func eventIDs(t *testing.T, db interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, customerIDs ...string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, c := range customerIDs {
		var id string
		if err := db.QueryRowContext(context.Background(), `SELECT id FROM inbound_events WHERE customer_id = $1`, c).Scan(&id); err != nil {
			t.Fatal(err)
		}
		out[c] = id
	}
	return out
}
