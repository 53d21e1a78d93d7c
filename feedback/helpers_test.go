package feedback_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/transfers"
)

// env is a feedback service on a real database and Redis, with three
// customers: 张三 (phone, email, openid), 李四 (phone, email) and 王五
// (phone only). Its clock is set by tests.
type env struct {
	t     testing.TB
	db    *database.DB
	q     *queue.Queue
	vault *pii.Vault
	cs    *customers.Store
	box   *devbox.Channel
	svc   *feedback.Service
	ids   map[string]string // customer name → id
	mu    sync.Mutex
	now   time.Time
}

// monday10 is Monday 2026-11-23 10:00 in Shanghai: inside business hours.
var monday10 = time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)

func newEnv(t testing.TB, db *database.DB, csv string) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{t: t, db: db, vault: piitest.Vault(t, db), ids: map[string]string{}, now: monday10}
	db.Now = func() time.Time {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.now
	}
	e.cs = customers.NewStore(db, e.vault)
	im := importer.New(e.cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	if csv == "" {
		csv = "姓名,手机,邮箱,openid\n张三,13812345678,zhang@example.com,oZhang\n李四,13900001111,li@example.com,\n王五,13700002222,,\n"
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Run(ctx, path, nil, "cli", nil); err != nil {
		t.Fatal(err)
	}
	for cursor := ""; ; {
		list, next, err := e.cs.FindCustomers(ctx, customers.Filter{Cursor: cursor, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range list {
			e.ids[c.Name] = c.ID
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	e.q = queuetest.Open(t)
	e.box = devbox.New(db, e.vault.Keys, nil)
	e.svc = e.service(map[channels.Name]channels.Channel{channels.Devbox: e.box}, "")
	return e
}

// service builds a feedback service with the given reply channels.
func (e *env) service(chans map[channels.Name]channels.Channel, smsTemplate string) *feedback.Service {
	return feedback.New(feedback.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Vault: e.vault, Queue: e.q, Customers: e.cs, Channels: chans,
		SMSReplyTemplate: smsTemplate, Log: queuetest.Logger(e.t)})
}

// advance moves the clock on.
func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// customer returns the id of the customer named name.
func (e *env) customer(name string) string {
	e.t.Helper()
	id := e.ids[name]
	if id == "" {
		e.t.Fatalf("no customer %s", name)
	}
	return id
}

// message hands a customer's message to the service as the Inbox would;
// name "" is an unknown sender writing from phone.
func (e *env) message(ch channels.Name, name, text string, opts ...func(*channels.InboundEvent)) channels.InboundEvent {
	e.t.Helper()
	ev := channels.InboundEvent{ID: ulid.Make().String(), Channel: ch, Kind: channels.EventMessage, DedupKey: ulid.Make().String(),
		Text: text, OccurredAt: e.db.Now()}
	if name != "" {
		ev.CustomerID = e.customer(name)
	}
	for _, o := range opts {
		o(&ev)
	}
	if err := e.svc.HandleInboundEvent(context.Background(), ev); err != nil {
		e.t.Fatalf("handle %s message: %v", ch, err)
	}
	return ev
}

func from(phone string) func(*channels.InboundEvent) {
	return func(ev *channels.InboundEvent) { ev.From.Phone = phone }
}

func delivery(id string) func(*channels.InboundEvent) {
	return func(ev *channels.InboundEvent) { ev.DeliveryID = id }
}

// tickets lists the customer's tickets in every status, oldest first.
func (e *env) tickets(name string) []*feedback.Ticket {
	e.t.Helper()
	var out []*feedback.Ticket
	for _, st := range feedback.Statuses {
		f := feedback.Filter{Status: st, Sort: "created", Limit: 200}
		if name != "" {
			f.CustomerID = e.customer(name)
		}
		list, _, err := e.svc.FindTickets(context.Background(), f)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, list...)
	}
	for i := 1; i < len(out); i++ { // oldest first, by id
		for j := i; j > 0 && out[j].ID < out[j-1].ID; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// view opens a ticket's conversation as staff.
func (e *env) view(id string) *feedback.Ticket {
	e.t.Helper()
	t, err := e.svc.ViewTicket(context.Background(), id, "staff:test")
	if err != nil {
		e.t.Fatal(err)
	}
	return t
}

func texts(t *feedback.Ticket) string {
	var parts []string
	for _, m := range t.Messages {
		parts = append(parts, m.Direction+":"+m.Text)
	}
	return strings.Join(parts, " | ")
}

// auditCount counts audit entries with action on object id.
func (e *env) auditCount(action, id string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action = $1 AND object_id = $2`, action, id).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }
