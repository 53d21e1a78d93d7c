package app_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/app"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

// open builds the application on the test's database and Redis, with no
// provider on (the embedded default: the devbox records messages).
func open(t *testing.T, db *database.DB) *app.App {
	t.Helper()
	cfg, err := config.Load([]string{"HANDOVER_DATA_DIR=" + t.TempDir(), "HANDOVER_MASTER_KEY=" + masterkey.Generate()})
	if err != nil {
		t.Fatal(err)
	}
	a := &app.App{Config: cfg, Log: queuetest.Logger(t), DB: db, Queue: queuetest.Open(t)}
	t.Cleanup(a.Close)
	if err := a.OpenStores(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := a.OpenServices(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOpenBuildsEveryPart: every part is built, but the providers' own
// channels, which are off.
func TestOpenBuildsEveryPart(t *testing.T) {
	a := open(t, dbtest.SQLite(t))
	v := reflect.ValueOf(a).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		if !f.CanInterface() || name == "WeChat" || name == "SMS" {
			continue
		}
		if f.Kind() != reflect.Bool && f.IsZero() {
			t.Errorf("%s not built", name)
		}
	}
	if a.WeChat != nil || a.SMS != nil || len(a.Channels) != 1 || a.Channels[channels.Devbox] == nil {
		t.Errorf("channels on: %v", a.Channels)
	}
	d := a.WebDeps()
	if d.SendCode == nil || d.Destroyer != a.Destroyer || d.Exporter != a.Exporter || d.Devbox != a.Devbox || d.RecordEvent == nil {
		t.Errorf("web deps: %+v", d)
	}
}

// TestInboundReplyBecomesATicket: a reply recorded in the inbox is matched
// to the customer who owns the phone and opens a ticket, through the
// hooks the application gives the inbox and the handlers it registers.
func TestInboundReplyBecomesATicket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a := open(t, db)
		path := filepath.Join(t.TempDir(), "list.csv")
		if err := os.WriteFile(path, []byte("姓名,手机\n张三,13812345678\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Importer.Run(ctx, path, nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		id, err := a.Customers.MatchContact(ctx, "", "+8613812345678", "")
		if err != nil || id == "" {
			t.Fatalf("imported customer: %q, %v", id, err)
		}
		if _, err := a.Inbox.Record(ctx, []channels.InboundEvent{{Channel: channels.Devbox, Kind: channels.EventMessage,
			DedupKey: "reply-1", From: channels.Address{Phone: "+8613812345678"}, Text: "请把地址改到杭州"}}); err != nil {
			t.Fatal(err)
		}
		srv := a.Queue.NewServer(queue.ServerConfig{Concurrency: 2, Queues: a.WorkerQueues(), TaskCheckInterval: 20 * time.Millisecond,
			ShutdownTimeout: 5 * time.Second})
		mux := asynq.NewServeMux()
		a.Register(mux)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		defer srv.Shutdown()
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			list, _, err := a.Tickets.FindTickets(ctx, feedback.Filter{CustomerID: id})
			if err != nil {
				t.Fatal(err)
			}
			if len(list) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no ticket for the customer: %d", len(list))
			}
		}
	})
}
