package channels_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

func TestInboxDedupsStoresSealedAndProcesses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		q := queuetest.Open(t)
		v := piitest.Vault(t, db)
		known := "+8613812345678"
		var mu sync.Mutex
		seen := map[string]channels.InboundEvent{}
		log := queuetest.Logger(t)
		in, err := channels.NewInbox(channels.InboxConfig{DB: db, Vault: v, Queue: q, Log: log, Sent: channels.NewSentLog(db, v.Index, log),
			Match: func(ctx context.Context, from channels.Address) (string, error) {
				if from.Phone == known {
					return "customer-1", nil
				}
				return "", nil
			},
			OnEvent: func(ctx context.Context, ev channels.InboundEvent) error {
				mu.Lock()
				defer mu.Unlock()
				seen[ev.DedupKey] = ev
				return nil
			}})
		if err != nil {
			t.Fatal(err)
		}
		events := []channels.InboundEvent{
			{Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "biz-1:" + known, From: channels.Address{Phone: known}, Text: "地址变更为杭州市"},
			{Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "seq-2", From: channels.Address{Phone: "+8613900000000"}, Text: "你好"},
		}
		n, err := in.Record(ctx, events)
		if err != nil || n != 2 {
			t.Fatalf("record = %d, %v", n, err)
		}
		// A replayed push is not stored again.
		if n, err := in.Record(ctx, events[:1]); err != nil || n != 0 {
			t.Fatalf("replay = %d, %v; want 0 new", n, err)
		}
		if _, err := in.Record(ctx, []channels.InboundEvent{{Channel: channels.SMS}}); err == nil {
			t.Fatal("event without kind and key accepted")
		}

		srv := q.NewServer(queue.ServerConfig{Concurrency: 2})
		mux := asynq.NewServeMux()
		in.Register(mux)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown()
		waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(seen) == 2 })
		if seen["biz-1:"+known].CustomerID != "customer-1" || seen["biz-1:"+known].Text != "地址变更为杭州市" || seen["seq-2"].CustomerID != "" {
			t.Fatalf("processed events = %+v", seen)
		}
		waitFor(t, func() bool {
			var states string
			db.QueryRowContext(ctx, `SELECT MIN(state) || ',' || MAX(state) FROM inbound_events`).Scan(&states)
			return states == "matched,unmatched"
		})
		if db.Dialect == database.SQLite {
			db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
			// ("地址变更" itself is a default ticket rule keyword, stored in clear.)
			assertNotInFiles(t, db, []byte("变更为杭州市"), []byte("13812345678"))
		}
	})
}

// TestNewInboxRefusesAMissingHook: a hook left out is an error when the
// inbox is built, not an inbox that silently drops every event.
func TestNewInboxRefusesAMissingHook(t *testing.T) {
	db := dbtest.SQLite(t)
	v, q, log := piitest.Vault(t, db), queuetest.Embedded(t), queuetest.Logger(t)
	full := func() channels.InboxConfig {
		return channels.InboxConfig{DB: db, Vault: v, Queue: q, Sent: channels.NewSentLog(db, v.Index, log),
			Match:   func(context.Context, channels.Address) (string, error) { return "", nil },
			OnEvent: func(context.Context, channels.InboundEvent) error { return nil }}
	}
	if _, err := channels.NewInbox(full()); err != nil {
		t.Fatalf("complete config: %v", err)
	}
	for name, drop := range map[string]func(*channels.InboxConfig){
		"Match":   func(c *channels.InboxConfig) { c.Match = nil },
		"OnEvent": func(c *channels.InboxConfig) { c.OnEvent = nil },
		"Sent":    func(c *channels.InboxConfig) { c.Sent = nil },
		"Queue":   func(c *channels.InboxConfig) { c.Queue = nil },
	} {
		cfg := full()
		drop(&cfg)
		if in, err := channels.NewInbox(cfg); err == nil || in != nil || !strings.Contains(err.Error(), name) {
			t.Errorf("without %s: %v, %v", name, in, err)
		}
	}
}

// TestInboxKeepsKnownCustomer: an event whose poster already knows the
// customer (the portal's survey answers) keeps that customer through
// processing, with no address to match.
func TestInboxKeepsKnownCustomer(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	q := queuetest.Open(t)
	got := make(chan channels.InboundEvent, 1)
	v, log := piitest.Vault(t, db), queuetest.Logger(t)
	in, err := channels.NewInbox(channels.InboxConfig{DB: db, Vault: v, Queue: q, Log: log, Sent: channels.NewSentLog(db, v.Index, log),
		Match:   func(context.Context, channels.Address) (string, error) { return "", nil },
		OnEvent: func(ctx context.Context, ev channels.InboundEvent) error { got <- ev; return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.Record(ctx, []channels.InboundEvent{{Channel: "portal", Kind: channels.EventMessage, DedupKey: "answer-1",
		CustomerID: "customer-7", Text: "送货太慢"}}); err != nil {
		t.Fatal(err)
	}
	srv := q.NewServer(queue.ServerConfig{Concurrency: 1})
	mux := asynq.NewServeMux()
	in.Register(mux)
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	select {
	case ev := <-got:
		if ev.CustomerID != "customer-7" || ev.Text != "送货太慢" {
			t.Fatalf("processed %+v", ev)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("event not processed")
	}
}

func TestSweepRestoresLostTasks(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	q := queuetest.Open(t)
	in := inboxtest.New(t, db, piitest.Vault(t, db), q)
	if _, err := in.Record(ctx, []channels.InboundEvent{{Channel: channels.Email, Kind: channels.EventMessage, DedupKey: "<m1@x>", From: channels.Address{Email: "a@example.com"}}}); err != nil {
		t.Fatal(err)
	}
	// Redis loses the task (as after a restart without persistence).
	if _, err := q.Inspector.DeleteAllPendingTasks(queue.QueueCritical); err != nil {
		t.Fatal(err)
	}
	if n, err := in.Sweep(ctx, -time.Second); err != nil || n != 1 {
		t.Fatalf("sweep = %d, %v; want 1", n, err)
	}
	info, err := q.Inspector.GetQueueInfo(queue.QueueCritical)
	if err != nil || info.Pending != 1 {
		t.Fatalf("pending after sweep: %+v %v", info, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNotInFiles checks the SQLite database and WAL files for plaintext.
func assertNotInFiles(t *testing.T, db *database.DB, needles ...[]byte) {
	t.Helper()
	var path string
	db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path)
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				t.Fatalf("%s contains plaintext %q", filepath.Base(f), n)
			}
		}
	}
}
