package campaigns_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// Reliability tests: a campaign of relRecipients email recipients sent into
// an in-process SMTP sink while Redis, a worker, the database or the channel
// fails. Every recipient must get the message; duplicates are counted and
// must stay within the rows a worker had in flight.

const (
	relRecipients  = 2000
	relBatch       = 50
	relConcurrency = 4
	// relLease is the batch lease of the tests where a worker loses rows
	// it claimed, short so that they are taken over soon; the others keep
	// the default (30 s). A live worker renews it every third of it: under
	// -race on a loaded machine a renewal can be late by a second or two,
	// and an expired live lease is taken over (and its rows sent twice).
	relLease = 5 * time.Second
)

type relEnv struct {
	t        *testing.T
	db       *database.DB // direct, for assertions
	q        *queue.Queue
	cs       *customers.Store
	vault    *pii.Vault
	ts       *templates.Store
	sink     *smtptest.Sink
	mail     *email.Channel
	transfer string
	template string // email template
}

// newRelEnv imports relRecipients customers with an email address each and
// starts an SMTP sink and an email channel on it.
func newRelEnv(t *testing.T, db *database.DB) *relEnv {
	t.Helper()
	ctx := context.Background()
	vault := piitest.Vault(t, db)
	cs := customers.NewStore(db, vault)
	im := importer.New(cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	var b strings.Builder
	b.WriteString("姓名,手机,邮箱,地区\n")
	for i := range relRecipients {
		fmt.Fprintf(&b, "客户%d,139%08d,%s,上海\n", i, i, relAddr(i))
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != relRecipients {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, tmpl := seedTransfer(t, db, cs, channels.Email)
	sink := smtptest.New(t)
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	return &relEnv{t: t, db: db, q: queuetest.Open(t), cs: cs, vault: vault, ts: ts, sink: sink, mail: mail, transfer: tr.ID, template: tmpl}
}

func relAddr(i int) string { return fmt.Sprintf("r%05d@example.com", i) }

// service returns a campaigns service on db sending email through ch with
// delivery lease lease (0: the default).
func (e *relEnv) service(db *database.DB, cs *customers.Store, ts *templates.Store, ch channels.Channel, lease time.Duration) *campaigns.Service {
	return campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: e.q, Customers: cs, Templates: ts, PublicURL: "https://handover.test",
		Channels: map[channels.Name]channels.Channel{channels.Email: ch}, BatchSize: relBatch, Lease: lease,
		Log: queuetest.Logger(e.t)})
}

// start creates and starts an email campaign.
func (e *relEnv) start(svc *campaigns.Service) string {
	e.t.Helper()
	ctx := context.Background()
	c := &campaigns.Campaign{Name: "reliability", TransferID: e.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: e.template}}
	if err := svc.Create(ctx, c, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	if err := svc.Start(ctx, c.ID, "staff:test"); err != nil {
		e.t.Fatal(err)
	}
	return c.ID
}

// worker starts an Asynq worker for svc whose handler contexts derive from
// base; stop shuts it down (idempotent, also run when the test ends).
func (e *relEnv) worker(svc *campaigns.Service, base context.Context) (stop func()) {
	e.t.Helper()
	srv := e.q.NewServer(queue.ServerConfig{Concurrency: relConcurrency,
		Queues:            campaigns.Queues(map[channels.Name]channels.Channel{channels.Email: nil, channels.SMS: nil}),
		TaskCheckInterval: 20 * time.Millisecond, DelayedTaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout: 2 * time.Second, BaseContext: func() context.Context { return base }})
	mux := asynq.NewServeMux()
	svc.Register(mux)
	if err := srv.Start(mux); err != nil {
		e.t.Fatal(err)
	}
	var once sync.Once
	stop = func() { once.Do(srv.Shutdown) }
	e.t.Cleanup(stop)
	return stop
}

// waitSent waits until the sink has accepted at least n messages.
func (e *relEnv) waitSent(n int) {
	e.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for e.sink.Count() < n {
		if time.Now().After(deadline) {
			e.t.Fatalf("sink accepted %d messages, waited for %d", e.sink.Count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// finish waits for the campaign to complete. Every 250 ms it plays the
// scheduled reconciler (svc.Reconcile) and, since Asynq's retry backoff
// (15 s and more) is not configurable, moves retrying send tasks to
// pending as if their backoff had elapsed. Errors of either (the database
// may be down) are retried.
func (e *relEnv) finish(svc *campaigns.Service, id string, timeout time.Duration) {
	e.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	next := time.Now()
	for {
		c, err := campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q}).FindCampaignByID(ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if c.Status == campaigns.StatusCompleted {
			return
		}
		if time.Now().After(deadline) {
			counts, _ := rowCounts(ctx, campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q}), id)
			e.t.Fatalf("campaign is %s after %s; deliveries %v; sink %d", c.Status, timeout, counts, e.sink.Count())
		}
		if time.Now().After(next) {
			next = time.Now().Add(250 * time.Millisecond)
			_, _ = e.q.Inspector.RunAllRetryTasks(campaigns.QueueName(channels.Email))
			_, _ = e.q.Inspector.RunAllRetryTasks(campaigns.QueueName(channels.SMS))
			_, _ = svc.Reconcile(ctx)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// check asserts that every recipient got the message at least once and
// every delivery row is sent, and returns the number of duplicates, which
// must be at most maxDup.
func (e *relEnv) check(id string, maxDup int) int {
	e.t.Helper()
	ctx := context.Background()
	svc := campaigns.New(campaigns.Config{DB: e.db, Transfers: transfers.NewStore(e.db), Queue: e.q})
	counts, err := rowCounts(ctx, svc, id)
	if err != nil {
		e.t.Fatal(err)
	}
	checkProgress(e.t, svc, id, counts)
	if counts["sent"] != relRecipients || len(counts) != 1 {
		e.t.Errorf("deliveries %v; want %d sent", counts, relRecipients)
	}
	per := map[string]int{}
	for _, m := range e.sink.Messages() {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	dups := 0
	for i := range relRecipients {
		switch n := per[relAddr(i)]; {
		case n == 0:
			e.t.Errorf("%s got no message", relAddr(i))
		case n > 1:
			dups += n - 1
		}
	}
	if len(per) != relRecipients {
		e.t.Errorf("sink saw %d distinct recipients, want %d", len(per), relRecipients)
	}
	if dups > maxDup {
		e.t.Errorf("%d duplicate messages, more than the %d in flight", dups, maxDup)
	}
	e.t.Logf("%d recipients, %d messages accepted, %d duplicates", len(per), e.sink.Count(), dups)
	return dups
}

// sendingAddrs returns the email addresses of the campaign's rows left
// queued in batches a worker still holds the lease of.
func (e *relEnv) sendingAddrs(id string) map[string]bool {
	e.t.Helper()
	ctx := context.Background()
	rows, err := e.db.QueryContext(ctx, `SELECT d.customer_id FROM deliveries d JOIN campaign_batches b
		ON b.campaign_id = d.campaign_id AND b.batch = d.batch
		WHERE d.campaign_id = $1 AND d.status = 'queued' AND b.lease_until IS NOT NULL`, id)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, c := range ids {
		cust, err := e.cs.FindCustomerByID(ctx, c)
		if err != nil {
			e.t.Fatal(err)
		}
		out[strings.ToLower(cust.Email)] = true
	}
	return out
}

// TestReliabilityRedisLoss empties the campaign's Redis database (every
// queued task lost) after a quarter of the messages went out: the
// reconciler restores the work from the database and no row is sent twice.
func TestReliabilityRedisLoss(t *testing.T) {
	e := newRelEnv(t, dbtest.SQLite(t))
	svc := e.service(e.db, e.cs, e.ts, e.mail, 0)
	id := e.start(svc)
	e.worker(svc, context.Background())
	e.waitSent(relRecipients / 4)
	if err := e.q.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.Reconcile(context.Background()); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v", n, err)
	}
	e.finish(svc, id, 90*time.Second)
	// Rows are claimed under a lease, so losing tasks sends nothing twice.
	if dups := e.check(id, relConcurrency*relBatch); dups != 0 {
		t.Errorf("%d duplicates after losing Redis; want 0", dups)
	}
}

// crashing is an email channel that, once armed (after `after` messages),
// sends the first half of each batch and then hangs until the test ends,
// as a worker that dies mid-batch: those messages went out but their rows
// stay queued under the worker's lease of the batch.
type crashing struct {
	channels.Channel
	after   int64
	sent    atomic.Int64
	hung    atomic.Int64 // messages sent and then lost to the crash
	crashed chan struct{}
	dead    chan struct{} // closed when the test ends
	once    sync.Once
}

func (c *crashing) Send(ctx context.Context, msgs []channels.Message) []channels.Result {
	if c.sent.Load() < c.after {
		res := c.Channel.Send(ctx, msgs)
		c.sent.Add(int64(len(msgs)))
		return res
	}
	half := msgs[:len(msgs)/2]
	if res := c.Channel.Send(ctx, half); len(res) == len(half) {
		for _, r := range res {
			if r.Err == nil {
				c.hung.Add(1)
			}
		}
	}
	c.once.Do(func() { close(c.crashed) })
	<-ctx.Done()
	<-c.dead // a dead worker records nothing
	out := make([]channels.Result, len(msgs))
	for i := range out {
		out[i].Err = ctx.Err()
	}
	return out
}

// TestReliabilityWorkerCrash kills a worker mid-batch (its handlers'
// context cancelled, so the batches it claimed stay leased to it
// and nothing it did after sending is recorded), then starts a new worker:
// the reconciler re-enqueues the rows whose lease expired and every
// recipient gets the message; the duplicates are the messages the dead
// worker had sent without recording them.
func TestReliabilityWorkerCrash(t *testing.T) {
	e := newRelEnv(t, dbtest.SQLite(t))
	crash := &crashing{Channel: e.mail, after: relRecipients / 3, crashed: make(chan struct{}), dead: make(chan struct{})}
	t.Cleanup(func() { close(crash.dead) })
	first := e.service(e.db, e.cs, e.ts, crash, relLease)
	id := e.start(first)
	base, kill := context.WithCancel(context.Background())
	stop := e.worker(first, base)
	select {
	case <-crash.crashed:
	case <-time.After(15 * time.Second):
		t.Fatalf("worker never reached the crash point; sink %d", e.sink.Count())
	}
	time.Sleep(100 * time.Millisecond) // let the other handlers hang too
	kill()
	stop()
	// A message whose end of DATA was written before the kill may still be
	// accepted by the sink: let it settle before counting.
	for n := -1; n != e.sink.Count(); {
		n = e.sink.Count()
		time.Sleep(200 * time.Millisecond)
	}
	// The rows left sending will be sent again; those of them the dead
	// worker had sent already are the duplicates to expect.
	lost := e.sendingAddrs(id)
	if len(lost) == 0 {
		t.Fatal("the crash left no row sending; the test did not crash mid-batch")
	}
	expect := 0
	for _, m := range e.sink.Messages() {
		for _, to := range m.To {
			if lost[strings.ToLower(to)] {
				expect++
			}
		}
	}
	second := e.service(e.db, e.cs, e.ts, e.mail, relLease)
	// Once the dead worker's leases end, the campaign says so.
	time.Sleep(relLease)
	c, err := second.FindCampaignByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	h, err := second.Health(context.Background(), c)
	if err != nil || h.ExpiredBatches == 0 || h.UnknownOutcome != len(lost) || h.Stalled != campaigns.StalledWorkerLost {
		t.Errorf("health after the crash %+v, %v; want expired batches holding the %d rows left, stalled %s", h, err, len(lost),
			campaigns.StalledWorkerLost)
	}
	e.worker(second, context.Background())
	e.finish(second, id, 20*time.Second)
	dups := e.check(id, relConcurrency*relBatch)
	if dups != expect {
		t.Errorf("%d duplicates; the crashed worker had sent %d messages it never recorded", dups, expect)
	}
	c, _ = second.FindCampaignByID(context.Background(), id)
	if h, err := second.Health(context.Background(), c); err != nil || h.DuplicatesSuspected < dups || h.ExpiredBatches != 0 || h.Stalled != "" {
		t.Errorf("health after recovery %+v, %v; want at least the %d duplicates suspected, nothing expired", h, err, dups)
	}
	t.Logf("crash left %d rows sending; %d of them sent and unrecorded (%d by the hung batches)", len(lost), expect, crash.hung.Load())
}

// TestReliabilityChannelOutage has the SMTP server answer 451 to the first
// messages: they go back to queued, their tasks are retried, and the
// campaign completes with every recipient served once.
func TestReliabilityChannelOutage(t *testing.T) {
	e := newRelEnv(t, dbtest.SQLite(t))
	svc := e.service(e.db, e.cs, e.ts, e.mail, 0)
	const failed = 300
	e.sink.FailNext(failed, 451, "4.3.0 Local error in processing")
	id := e.start(svc)
	e.worker(svc, context.Background())
	e.finish(svc, id, 90*time.Second)
	if dups := e.check(id, 0); dups != 0 {
		t.Errorf("%d duplicates after a channel outage", dups)
	}
	// Each refused message cost its row one attempt.
	var attempts int
	if err := e.db.QueryRowContext(context.Background(), `SELECT SUM(attempts) FROM deliveries WHERE campaign_id = $1`,
		id).Scan(&attempts); err != nil {
		t.Fatal(err)
	}
	if attempts != relRecipients+failed {
		t.Errorf("%d attempts in all; want %d sent + %d refused", attempts, relRecipients, failed)
	}
}

// tcpProxy forwards TCP connections (to PostgreSQL or Redis); Down drops every
// connection and refuses new ones until Up.
type tcpProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		ln.Close()
		p.Down()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.mu.Unlock()
		up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			up.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			_, _ = io.Copy(dst, src)
			dst.Close()
			src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

// Down closes every forwarded connection and refuses new ones.
func (p *tcpProxy) Down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
	}
}

// Up accepts connections again.
func (p *tcpProxy) Up() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// TestReliabilityDatabaseOutage cuts the campaign workers off PostgreSQL
// for 5 s mid-campaign (a proxy drops every connection and refuses new
// ones): handlers fail and are retried, and after the database is back the
// campaign completes with nothing lost.
func TestReliabilityDatabaseOutage(t *testing.T) {
	if os.Getenv("TEST_DATABASE_URL") == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	ctx := context.Background()
	direct, rawURL := dbtest.PostgresURL(t)
	e := newRelEnv(t, direct)
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = "5432"
	}
	proxy := newTCPProxy(t, net.JoinHostPort(u.Hostname(), port))
	u.Host = proxy.Addr()
	viaProxy, err := database.Open(ctx, u.String(), "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { viaProxy.Close() })
	// The service and its stores read and write through the proxy.
	cs := customers.NewStore(viaProxy, e.vault)
	svc := e.service(viaProxy, cs, templates.NewStore(viaProxy, cs, transfers.NewStore(viaProxy)), e.mail, relLease)
	id := e.start(svc)
	e.worker(svc, context.Background())
	e.waitSent(relRecipients / 4)
	proxy.Down()
	outage := e.sink.Count()
	time.Sleep(5 * time.Second)
	during := e.sink.Count() - outage
	proxy.Up()
	e.finish(svc, id, 90*time.Second)
	// A batch sent just before the cut whose outcome could not be recorded
	// is sent again after its lease: at most one batch per worker slot.
	dups := e.check(id, relConcurrency*relBatch)
	t.Logf("%d messages accepted during the 5 s outage (batches already rendered); %d duplicates", during, dups)
}
