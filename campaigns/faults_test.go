package campaigns_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// Fault tests: `handover worker` processes at default settings (30 s
// lease, the scheduler's own Recover and Reconcile) send an email campaign
// through a slow relay (a per-recipient SMTP sink) while the test breaks
// something; each prints recipients expected, reached exactly once, lost,
// duplicates and the time to recover. They take a minute or two each and
// run when TEST_FAULTS=1 (with TEST_DATABASE_URL and
// TEST_REDIS_URL).

const (
	faultRecipients = 4000
	faultBatch      = 200
	faultRelayDelay = 20 * time.Millisecond
	faultTimeout    = 3 * time.Minute
)

// faultRig is one fault test's world: its own PostgreSQL schema and Redis
// database, each behind a proxy the test can cut, a slow SMTP sink, and
// the handover binary.
type faultRig struct {
	t           *testing.T
	db          *database.DB // direct
	cs          *customers.Store
	svc         *campaigns.Service
	sink        *smtptest.Sink
	pg, redis   *tcpProxy
	redisDirect *queue.Queue
	bin         string
	env         []string
	campaign    string
	recipients  int
}

// rigOptions change what newRig builds; the zero value is the fault
// tests' world.
type rigOptions struct {
	// recipients is the campaign's size; 0 means faultRecipients.
	recipients int
	// db and dbURL are a migrated database of the test's own (a server it
	// restarts); nil means a schema of TEST_DATABASE_URL's.
	db    *database.DB
	dbURL string
	// redisURL is a Redis of the test's own (Sentinels), used without a
	// proxy; empty means a leased database of TEST_REDIS_URL's.
	redisURL string
}

func newFaultRig(t *testing.T) *faultRig { return newRig(t, rigOptions{}) }

// skipUnlessFaults skips the test unless TEST_FAULTS is set.
func skipUnlessFaults(t testing.TB) {
	t.Helper()
	if os.Getenv("TEST_FAULTS") == "" {
		t.Skip("fault tests run with TEST_FAULTS=1")
	}
}

// buildHandover builds the handover binary into a temp dir.
func buildHandover(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "handover")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/handover").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func newRig(t *testing.T, o rigOptions) *faultRig {
	t.Helper()
	skipUnlessFaults(t)
	ctx := context.Background()
	if o.recipients == 0 {
		o.recipients = faultRecipients
	}
	db, dbURL := o.db, o.dbURL
	if db == nil {
		db, dbURL = dbtest.PostgresURL(t)
	}
	r := &faultRig{t: t, db: db, bin: buildHandover(t), recipients: o.recipients}
	pgURL := proxied(t, dbURL, "5432", &r.pg)
	redisURL, redisProxied := o.redisURL, o.redisURL
	if redisURL == "" {
		redisURL = queuetest.RedisURL(t)
		redisProxied = proxied(t, redisURL, "6379", &r.redis)
	}

	masterKey, vault := piitest.VaultWithKey(t, db)
	cs := customers.NewStore(db, vault)
	r.cs = cs
	var b strings.Builder
	b.WriteString("姓名,邮箱\n")
	for i := range r.recipients {
		fmt.Fprintf(&b, "客户%d,%s\n", i, relAddr(i))
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	im := importer.New(cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != int64(r.recipients) {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, tmpl := seedTransfer(t, db, cs, channels.Email)
	r.sink = smtptest.New(t)
	r.sink.SetDelay(faultRelayDelay)
	var err error
	if r.redisDirect, err = queue.Open(ctx, redisURL, queuetest.Logger(t)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.redisDirect.Close() })
	r.svc = campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: r.redisDirect, Customers: cs, Templates: ts, PublicURL: "https://handover.test",
		BatchSize: faultBatch, Channels: map[channels.Name]channels.Channel{channels.Email: nil}, Log: queuetest.Logger(t)})
	c := &campaigns.Campaign{Name: "fault", TransferID: tr.ID, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: tmpl}}
	if err := r.svc.Create(ctx, c, "staff:test"); err != nil {
		t.Fatal(err)
	}
	r.campaign = c.ID
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HANDOVER_") { // the test sets its own HANDOVER_ variables
			r.env = append(r.env, kv)
		}
	}
	r.env = append(r.env, "HANDOVER_DATA_DIR="+t.TempDir(), "HANDOVER_DATABASE_URL="+pgURL,
		"HANDOVER_REDIS_URL="+redisProxied, "HANDOVER_MASTER_KEY="+masterKey, "HANDOVER_SMTP_URL="+r.sink.URL(),
		"HANDOVER_EMAIL_FROM=Handover <notice@example.com>", "HANDOVER_EMAIL_RATE=100000", "HANDOVER_LOG_LEVEL=warn",
		"HANDOVER_WORKER_CONCURRENCY=4", "HANDOVER_PUBLIC_URL=https://handover.test")
	return r
}

// proxied starts a proxy to rawURL's host and returns rawURL through it.
func proxied(t *testing.T, rawURL, defPort string, p **tcpProxy) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	port := u.Port()
	if port == "" {
		port = defPort
	}
	*p = newTCPProxy(t, net.JoinHostPort(u.Hostname(), port))
	u.Host = (*p).Addr()
	return u.String()
}

// worker starts a `handover worker` process.
func (r *faultRig) worker() *exec.Cmd {
	r.t.Helper()
	cmd := exec.Command(r.bin, "worker")
	cmd.Env = r.env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = os.Stderr, io.MultiWriter(os.Stderr, &out)
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() {
		if cmd.ProcessState != nil {
			return // killed by the test
		}
		mark := len(out.String())
		stopProcess(cmd, 10*time.Second)
		// A clean stop logs no error.
		if stop := out.String()[mark:]; strings.Contains(stop, "level=ERROR") {
			r.t.Errorf("the worker's clean stop logged an error:\n%s", stop)
		}
	})
	return cmd
}

// TestFaultAPIKilledAtStart leaves the campaign as an API process killed
// right after `start` committed does, at the worst moment: running, no
// row planned, no plan task (Plan, which plans in the caller, has its
// context cut as soon as `running` is committed). The workers' Recover notices within its 10 s tick
// and the campaign is planned and sent.
func TestFaultAPIKilledAtStart(t *testing.T) {
	r := newFaultRig(t)
	r.worker()
	// Cut the caller off as soon as `running` is committed.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer cancel()
		for ctx.Err() == nil {
			var st campaigns.Status
			if r.db.QueryRowContext(context.Background(), `SELECT status FROM campaigns WHERE id = $1`, r.campaign).Scan(&st) == nil &&
				st == campaigns.StatusRunning {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := r.svc.Plan(ctx, r.campaign, "staff:test")
	cancel()
	at := time.Now()
	c, ferr := r.svc.FindCampaignByID(context.Background(), r.campaign)
	if ferr != nil {
		t.Fatal(ferr)
	}
	if c.Status != campaigns.StatusRunning || c.PlannedAt != nil {
		t.Skipf("planning was not cut short (%v): campaign %s, planned %v", err, c.Status, c.PlannedAt != nil)
	}
	t.Logf("cut short with %d of %d planned: %v", c.Planned, r.recipients, err)
	r.waitSent(1)
	fmt.Printf("fault %-22s first message %s after the cut\n", "api killed at start", time.Since(at).Round(100*time.Millisecond))
	done := r.finish()
	res := r.report("api killed at start", done.Sub(at))
	if res.dups != 0 {
		t.Errorf("%d duplicates after a cut-short start; want 0", res.dups)
	}
}

// start starts the campaign.
func (r *faultRig) start() {
	r.t.Helper()
	if err := r.svc.Start(context.Background(), r.campaign, "staff:test"); err != nil {
		r.t.Fatal(err)
	}
}

// waitSent waits until the sink has accepted at least n messages.
func (r *faultRig) waitSent(n int) {
	r.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for r.sink.Count() < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("sink accepted %d messages, waited for %d", r.sink.Count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settle waits until the sink has accepted nothing new for a second.
func (r *faultRig) settle() {
	for n := -1; n != r.sink.Count(); {
		n = r.sink.Count()
		time.Sleep(time.Second)
	}
}

// finish waits until the campaign is completed and every recipient has
// the message, and returns when that was.
func (r *faultRig) finish() time.Time {
	r.t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(faultTimeout)
	for {
		c, err := r.svc.FindCampaignByID(ctx, r.campaign)
		if err != nil {
			r.t.Fatal(err)
		}
		if c.Status == campaigns.StatusCompleted && len(r.perRecipient()) == r.recipients {
			return time.Now()
		}
		if time.Now().After(deadline) {
			counts, _ := rowCounts(ctx, r.svc, r.campaign)
			r.t.Fatalf("campaign is %s after %s; deliveries %v; sink %d", c.Status, faultTimeout, counts, r.sink.Count())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// perRecipient counts the sink's messages per recipient address.
func (r *faultRig) perRecipient() map[string]int {
	per := map[string]int{}
	for _, m := range r.sink.Messages() {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	return per
}

// syncBuffer is a bytes.Buffer a process's output goroutine and the test
// may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// faultResult is what a fault test prints.
type faultResult struct {
	expected, once, lost, dups int
	recover                    time.Duration
}

// report counts what the sink got against the campaign's rows, prints it,
// and fails the test on a lost recipient or rows not all sent.
func (r *faultRig) report(fault string, recover time.Duration) faultResult {
	r.t.Helper()
	r.settle()
	counts, err := rowCounts(context.Background(), r.svc, r.campaign)
	if err != nil {
		r.t.Fatal(err)
	}
	checkProgress(r.t, r.svc, r.campaign, counts)
	if counts["sent"] != r.recipients || len(counts) != 1 {
		r.t.Errorf("deliveries %v; want %d sent", counts, r.recipients)
	}
	per := r.perRecipient()
	res := faultResult{expected: r.recipients, recover: recover}
	for i := range r.recipients {
		switch n := per[relAddr(i)]; {
		case n == 0:
			res.lost++
		case n == 1:
			res.once++
		default:
			res.dups += n - 1
		}
	}
	if res.lost > 0 {
		r.t.Errorf("%d recipients got no message", res.lost)
	}
	line := fmt.Sprintf("fault %-22s expected %d, reached exactly once %d, lost %d, duplicates %d, recovered in %s",
		fault, res.expected, res.once, res.lost, res.dups, recover.Round(100*time.Millisecond))
	fmt.Println(line)
	r.t.Log(line)
	return res
}

// TestFaultDatabaseOutage cuts the workers off PostgreSQL for 10 s while
// batches are in flight: they keep what they sent and record it once the
// database is back, within their leases, so nothing is sent twice.
func TestFaultDatabaseOutage(t *testing.T) {
	r := newFaultRig(t)
	r.worker()
	r.start()
	r.waitSent(r.recipients / 4)
	r.pg.Down()
	at := time.Now()
	time.Sleep(10 * time.Second)
	r.pg.Up()
	done := r.finish()
	if res := r.report("database down 10 s", done.Sub(at)); res.dups != 0 {
		t.Errorf("%d duplicates after a 10 s database outage; want 0", res.dups)
	}
}

// TestFaultRedisFlush empties the workers' Redis database mid-campaign
// (every queued task lost): the reconciler restores the work from the
// database and nothing is sent twice.
func TestFaultRedisFlush(t *testing.T) {
	r := newFaultRig(t)
	r.worker()
	r.start()
	r.waitSent(r.recipients / 4)
	if err := r.redisDirect.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	done := r.finish()
	if res := r.report("redis flushed", done.Sub(at)); res.dups != 0 {
		t.Errorf("%d duplicates after a Redis flush; want 0", res.dups)
	}
}

// TestFaultRedisRestart cuts the workers off Redis for 5 s and empties it,
// as a restart without persistence does: nothing is lost or sent twice.
func TestFaultRedisRestart(t *testing.T) {
	r := newFaultRig(t)
	r.worker()
	r.start()
	r.waitSent(r.recipients / 4)
	r.redis.Down()
	at := time.Now()
	if err := r.redisDirect.Redis.FlushDB(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	r.redis.Up()
	done := r.finish()
	if res := r.report("redis restarted", done.Sub(at)); res.dups != 0 {
		t.Errorf("%d duplicates after a Redis restart; want 0", res.dups)
	}
}

// TestFaultWorkerSIGKILL SIGKILLs the only worker mid-campaign and starts
// another: its batches are taken over once their lease (30 s, no longer
// renewed) ends, within 90 s in all, and the duplicates are at most the
// rows it had handed to the relay without recording them.
func TestFaultWorkerSIGKILL(t *testing.T) {
	r := newFaultRig(t)
	first := r.worker()
	r.start()
	r.waitSent(r.recipients / 4)
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	r.settle()
	// Rows the dead worker held: queued under a lease; those the sink has
	// are the ones it handed over and never recorded.
	held := map[string]bool{}
	rows, err := r.db.QueryContext(context.Background(), `SELECT d.customer_id FROM deliveries d JOIN campaign_batches b
		ON b.campaign_id = d.campaign_id AND b.batch = d.batch
		WHERE d.campaign_id = $1 AND d.status = 'queued' AND b.lease_until IS NOT NULL`, r.campaign)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		cust, err := r.cs.FindCustomerByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		held[strings.ToLower(cust.Email)] = true
	}
	unrecorded := 0
	for addr, n := range r.perRecipient() {
		if held[addr] {
			unrecorded += n
		}
	}
	r.worker()
	done := r.finish()
	res := r.report("worker SIGKILL", done.Sub(at))
	fmt.Printf("fault %-22s %d rows held by the dead worker, %d of them handed to the relay and not recorded\n", "worker SIGKILL", len(held), unrecorded)
	if res.dups > unrecorded {
		t.Errorf("%d duplicates; the dead worker had handed %d messages to the relay without recording them", res.dups, unrecorded)
	}
	if res.recover > 90*time.Second {
		t.Errorf("recovered in %s; want within 90 s", res.recover)
	}
}
