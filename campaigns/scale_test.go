package campaigns_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// The scale world: two `handover api` and up to three `handover worker`
// processes on one PostgreSQL and one Redis that the test starts itself
// (so /proc tells their CPU apart from anything else on the machine), a
// campaign to N customers of whom half have only an email address (SMTP
// sink) and half only a mobile number (smsfake, the Aliyun SDK's fake):
// the campaign's channels are email then SMS, so each customer gets one
// message. The campaign is created and started in the test process with
// campaigns.Service (the API's start route is behind the agreement and
// training gate); its progress is read through the two api processes.

type scaleWorld struct {
	tb       testing.TB
	rows     int
	pg       *pgServer
	redis    *exec.Cmd
	db       *database.DB
	svc      *campaigns.Service
	q        *queue.Queue
	transfer string
	tmpl     map[channels.Name]string
	bin      string
	env      []string
	apis     []*exec.Cmd
	apiAddrs []string
	token    string
	keep     bool // the sink keeps messages, so each recipient is counted
}

// scaleRun is what one campaign on a number of workers measured.
type scaleRun struct {
	workers        int
	elapsed        time.Duration
	first          time.Duration
	email, sms     int
	once, dups     int // known only when the sink keeps messages
	api, work      float64
	postgres, rds  float64
	test, machine  float64
	sentRows, rows int
}

func newScaleWorld(tb testing.TB, rows int, durable bool) *scaleWorld {
	tb.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		tb.Skip("redis-server not installed")
	}
	ctx := context.Background()
	w := &scaleWorld{tb: tb, rows: rows, keep: rows <= 20000, tmpl: map[channels.Name]string{}}
	w.pg = newPGServer(tb, durable)
	redisPort := freePort(tb)
	w.redis = daemon(tb, "redis-server", "--port", strconv.Itoa(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", tb.TempDir())
	redisURL := fmt.Sprintf("redis://127.0.0.1:%d/0", redisPort)
	var err error
	if w.db, err = database.Open(ctx, w.pg.URL(), ""); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { w.db.Close() })
	if err := w.db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	waitFor(tb, "redis-server answers", 10*time.Second, func() bool {
		q, err := queue.Open(ctx, redisURL, queuetest.Logger(tb))
		if err == nil {
			w.q = q
		}
		return err == nil
	})
	tb.Cleanup(func() { _ = w.q.Close() })
	masterKey, vault := piitest.VaultWithKey(tb, w.db)
	cs := customers.NewStore(w.db, vault)
	im := importer.New(cs, filepath.Join(tb.TempDir(), "spool"), nil)
	tb.Cleanup(im.Wait)
	if imp, err := im.Run(ctx, scaleCSV(tb, rows), nil, "cli", nil); err != nil || imp.Created != int64(rows) {
		tb.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, emailTmpl := seedTransfer(tb, w.db, cs, channels.Email)
	providerCodes(tb, w.db)
	smsList, err := ts.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN"})
	if err != nil || len(smsList) != 1 {
		tb.Fatalf("default SMS template: %v", err)
	}
	w.transfer, w.tmpl[channels.Email], w.tmpl[channels.SMS] = tr.ID, emailTmpl, smsList[0].ID
	w.svc = campaigns.New(campaigns.Config{DB: w.db, Transfers: transfers.NewStore(w.db), Queue: w.q, Customers: cs, Templates: ts, PublicURL: "https://handover.test",
		Channels: map[channels.Name]channels.Channel{channels.Email: nil, channels.SMS: nil}, Log: queuetest.Logger(tb)})

	st := staff.NewStore(w.db)
	if err := st.CreateMember(ctx, &staff.Member{Email: "scale@example.com", Name: "Scale", Role: staff.Admin},
		"a long password for the scale test 2026", "cli"); err != nil {
		tb.Fatal(err)
	}
	if w.token, err = st.CreateAPIToken(ctx, "scale@example.com", "scale", "cli"); err != nil {
		tb.Fatal(err)
	}

	w.bin = buildHandover(tb)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HANDOVER_") {
			w.env = append(w.env, kv)
		}
	}
	w.env = append(w.env, "HANDOVER_DATABASE_URL="+w.pg.URL(), "HANDOVER_REDIS_URL="+redisURL, "HANDOVER_MASTER_KEY="+masterKey,
		"HANDOVER_EMAIL_FROM=Handover <notice@example.com>", "HANDOVER_EMAIL_RATE=1000000", "HANDOVER_SMS_RATE=1000000",
		"HANDOVER_LOG_LEVEL=warn", "HANDOVER_PUBLIC_URL=https://handover.test", "HANDOVER_RATE_LIMIT=100000")
	for range 2 {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort(tb))
		w.apis = append(w.apis, w.process(nil, "api", "--addr", addr))
		w.apiAddrs = append(w.apiAddrs, addr)
	}
	for _, addr := range w.apiAddrs {
		waitFor(tb, "api "+addr+" ready", time.Minute, func() bool {
			resp, err := http.Get("http://" + addr + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		})
	}
	return w
}

// scaleCSV writes rows customers: even rows with only an email address,
// odd rows with only a mobile number.
func scaleCSV(tb testing.TB, rows int) string {
	return writeCSV(tb, "客户编号,客户名称,手机号码,电子邮箱", rows, func(w io.Writer, i int) {
		if i%2 == 0 {
			fmt.Fprintf(w, "S%07d,客户%d,,%s\n", i, i, scaleAddr(i))
		} else {
			fmt.Fprintf(w, "S%07d,客户%d,%s,\n", i, i, scalePhone(i))
		}
	})
}

func scaleAddr(i int) string  { return fmt.Sprintf("s%07d@example.com", i) }
func scalePhone(i int) string { return fmt.Sprintf("13%09d", i) }

// process starts `handover ARGS…` with the world's environment and extra;
// it is stopped with SIGTERM when the test ends, if still running.
func (w *scaleWorld) process(extra []string, args ...string) *exec.Cmd {
	w.tb.Helper()
	cmd := exec.Command(w.bin, args...)
	cmd.Env = append(append([]string{"HANDOVER_DATA_DIR=" + w.tb.TempDir()}, w.env...), extra...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		w.tb.Fatal(err)
	}
	w.tb.Cleanup(func() { stopProcess(cmd, 40*time.Second) })
	return cmd
}

// stopProcess sends SIGTERM and waits up to grace before SIGKILL.
func stopProcess(cmd *exec.Cmd, grace time.Duration) {
	if cmd.ProcessState != nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

// campaignView is what GET /api/v1/campaigns/:id answers, in part.
type campaignView struct {
	Status campaigns.Status
	Counts map[string]int
}

// progress reads the campaign through the i-th api process.
func (w *scaleWorld) progress(i int, id string) (campaignView, error) {
	var v campaignView
	req, _ := http.NewRequest(http.MethodGet, "http://"+w.apiAddrs[i%len(w.apiAddrs)]+"/api/v1/campaigns/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+w.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return v, fmt.Errorf("GET campaign: %s", resp.Status)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// run sends one campaign to every customer with n worker processes.
func (w *scaleWorld) run(n int) scaleRun {
	w.tb.Helper()
	ctx := context.Background()
	sink := smtptest.New(w.tb)
	sink.KeepMessages(w.keep)
	fake := smsfake.New(w.tb)
	cfg := fake.Config()
	extra := []string{"HANDOVER_SMTP_URL=" + sink.URL(),
		"HANDOVER_ALIYUN_ACCESS_KEY_ID=" + cfg.AccessKeyID, "HANDOVER_ALIYUN_ACCESS_KEY_SECRET=" + cfg.AccessKeySecret,
		"HANDOVER_ALIYUN_SMS_ENDPOINT=http://" + cfg.Endpoint, "HANDOVER_SMS_SIGN_NAME=" + cfg.SignName, "HANDOVER_HOOK_SECRET=scale-test-hook-secret-0123456789"}
	c := &campaigns.Campaign{Name: fmt.Sprintf("scale-%d", n), TransferID: w.transfer, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email, channels.SMS}, Templates: w.tmpl}
	if err := w.svc.Create(ctx, c, "staff:test"); err != nil {
		w.tb.Fatal(err)
	}
	var workers []*exec.Cmd
	for range n {
		workers = append(workers, w.process(extra, "worker"))
	}
	waitFor(w.tb, fmt.Sprintf("%d workers registered with Asynq", n), time.Minute, func() bool {
		s, err := w.q.Inspector.Servers()
		return err == nil && len(s) == n
	})

	cpu := func() (api, work, pg, rds, test, machine float64) {
		for _, p := range w.apis {
			api += procCPU(p.Process.Pid, false)
		}
		for _, p := range workers {
			work += procCPU(p.Process.Pid, false)
		}
		return api, work, w.pg.cpu(), procCPU(w.redis.Process.Pid, false), cpuSeconds(), machineCPUSeconds()
	}
	a0, w0, p0, r0, t0, m0 := cpu()
	start := time.Now()
	if err := w.svc.Start(ctx, c.ID, "staff:test"); err != nil {
		w.tb.Fatal(err)
	}
	var first time.Duration
	deadline := start.Add(time.Duration(w.rows)*10*time.Millisecond + 2*time.Minute)
	for i := 0; ; i++ {
		got := sink.Count() + fake.Count()
		if first == 0 && got > 0 {
			first = time.Since(start)
		}
		if got >= w.rows {
			if v, err := w.progress(i, c.ID); err == nil && v.Status == campaigns.StatusCompleted {
				break
			}
		}
		if time.Now().After(deadline) {
			v, err := w.progress(i, c.ID)
			w.tb.Fatalf("%d workers: %d of %d messages, campaign %+v (%v)", n, got, w.rows, v, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	elapsed := time.Since(start)
	a1, w1, p1, r1, t1, m1 := cpu()
	res := scaleRun{workers: n, elapsed: elapsed, first: first, email: sink.Count(), sms: fake.Count(), rows: w.rows,
		api: a1 - a0, work: w1 - w0, postgres: p1 - p0, rds: r1 - r0, test: t1 - t0, machine: m1 - m0}
	for _, p := range workers {
		stopProcess(p, 40*time.Second)
	}
	counts, err := rowCounts(ctx, w.svc, c.ID)
	if err != nil {
		w.tb.Fatal(err)
	}
	res.sentRows = counts["sent"] + counts["delivered"]
	if res.sentRows != w.rows {
		w.tb.Errorf("%d workers: deliveries %v; want %d sent", n, counts, w.rows)
	}
	if w.keep {
		per := map[string]int{}
		for _, m := range sink.Messages() {
			for _, to := range m.To {
				per[strings.ToLower(to)]++
			}
		}
		for _, m := range fake.Messages() {
			per[m.Phone]++
		}
		for i := range w.rows {
			key := scaleAddr(i)
			if i%2 == 1 {
				key = scalePhone(i)
			}
			switch k := per[key]; {
			case k == 0:
				w.tb.Errorf("%d workers: %s got no message", n, key)
			case k == 1:
				res.once++
			default:
				res.dups += k - 1
			}
		}
	}
	if got := res.email + res.sms; got < w.rows {
		w.tb.Errorf("%d workers: %d messages for %d recipients", n, got, w.rows)
	}
	return res
}

// String is the run's line of the benchmark's output.
func (r scaleRun) String() string {
	per := func(s float64) string { return strconv.FormatFloat(s/float64(r.rows)*1000, 'f', 3, 64) }
	dups := "n/a (sink counts only)"
	if r.once > 0 || r.dups > 0 {
		dups = fmt.Sprintf("%d (reached exactly once %d)", r.dups, r.once)
	}
	return fmt.Sprintf("scale %d workers: %d recipients (%d email, %d SMS) in %s = %.0f msgs/s, first after %s; duplicates %s\n"+
		"  CPU-s per 1,000 msgs: api×2 %s, workers %s, postgres %s, redis %s, test process (first plan chunk in Start, SMTP sink, smsfake, polling) %s; machine %s (other load included)",
		r.workers, r.rows, r.email, r.sms, r.elapsed.Round(10*time.Millisecond), float64(r.rows)/r.elapsed.Seconds(),
		r.first.Round(time.Millisecond), dups, per(r.api), per(r.work), per(r.postgres), per(r.rds), per(r.test), per(r.machine))
}

// procCPU is a process's user+system CPU seconds from /proc/PID/stat, with
// its waited-for children's when children is set; 0 when it is gone.
func procCPU(pid int, children bool) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(b), ") ")
	if !ok {
		return 0
	}
	f := strings.Fields(rest) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0
	}
	ticks := 0.0
	last := 13 // utime (14), stime (15)
	if children {
		last = 15 // cutime (16), cstime (17)
	}
	for i := 11; i < last; i++ {
		v, _ := strconv.ParseFloat(f[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// cpu is the server's CPU seconds: the postmaster's with its exited
// children's, plus every live child's.
func (p *pgServer) cpu() float64 {
	b, err := os.ReadFile(filepath.Join(p.data(), "postmaster.pid"))
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pm, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		return 0
	}
	total := procCPU(pm, true)
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		_, rest, _ := strings.Cut(string(st), ") ")
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pm) {
			total += procCPU(pid, false)
		}
	}
	return total
}

// scaleRows is BENCH_SCALE_ROWS, else def.
func scaleRows(tb testing.TB, def int) int {
	if v := os.Getenv("BENCH_SCALE_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			tb.Fatalf("BENCH_SCALE_ROWS=%q is not a number above 1", v)
		}
		return n
	}
	return def
}

// BenchmarkScale sends a campaign to BENCH_SCALE_ROWS customers (default
// 20,000; `make bench` sends 200,000), half by email and half by SMS, with
// 1, 2 and 3 worker processes beside 2 api processes, on a PostgreSQL
// (fsync on) and a Redis of its own; it prints msgs/s and the CPU seconds
// per 1,000 messages of each kind of process.
func BenchmarkScale(b *testing.B) {
	w := newScaleWorld(b, scaleRows(b, 20000), true)
	for _, n := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) {
			for range b.N {
				r := w.run(n)
				fmt.Println(r)
				b.ReportMetric(float64(r.rows)/r.elapsed.Seconds(), "msgs/s")
				b.ReportMetric(r.work/float64(r.rows)*1000, "worker-cpu-s/1k-msgs")
				b.ReportMetric(r.postgres/float64(r.rows)*1000, "postgres-cpu-s/1k-msgs")
			}
		})
	}
	w.printSizes(3)
}

// printSizes prints the database's largest tables and Redis's peak memory
// after campaigns sent to every customer: the sizing figures of
// docs/operations.md.
func (w *scaleWorld) printSizes(campaignsSent int) {
	w.tb.Helper()
	ctx := context.Background()
	var total int64
	if _, err := w.db.ExecContext(ctx, `ANALYZE`); err != nil {
		w.tb.Fatal(err)
	}
	if err := w.db.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&total); err != nil {
		w.tb.Fatal(err)
	}
	fmt.Printf("scale sizes: %d customers, %d campaigns to all of them: database %.1f MB (%.0f bytes per customer-and-%d-deliveries)\n",
		w.rows, campaignsSent, float64(total)/(1<<20), float64(total)/float64(w.rows), campaignsSent)
	rows, err := w.db.QueryContext(ctx, `SELECT c.relname, pg_total_relation_size(c.oid), c.reltuples::bigint FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY 2 DESC LIMIT 8`)
	if err != nil {
		w.tb.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var size, tuples int64
		if err := rows.Scan(&name, &size, &tuples); err != nil {
			w.tb.Fatal(err)
		}
		fmt.Printf("  %-24s %8.1f MB  %9d rows  %6.0f bytes/row (indexes included)\n", name, float64(size)/(1<<20), tuples, float64(size)/float64(max(tuples, 1)))
	}
	if err := rows.Err(); err != nil {
		w.tb.Fatal(err)
	}
	info, err := w.q.Redis.Info(ctx, "memory").Result()
	if err != nil {
		w.tb.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory_peak_human:"); ok {
			fmt.Printf("  redis used_memory_peak %s\n", v)
		}
	}
}

// TestScaleSmall is BenchmarkScale at 2,000 recipients and three workers
// (TEST_FAULTS=1): every recipient reached once, duplicates bounded.
func TestScaleSmall(t *testing.T) {
	skipUnlessFaults(t)
	w := newScaleWorld(t, 2000, false)
	r := w.run(3)
	fmt.Println(r)
	t.Log(r)
	if r.dups > 0 {
		t.Errorf("%d duplicates without a fault; want 0", r.dups)
	}
	if r.once != w.rows {
		t.Errorf("%d of %d recipients reached exactly once", r.once, w.rows)
	}
	w.printSizes(1)
}
