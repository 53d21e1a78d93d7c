package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/masterkey"
)

// BenchmarkCampaignProcess sends an email campaign to BENCH_CAMPAIGN_ROWS
// customers (default 20,000; `make bench` sends 100,000) the way an
// operator does: the built binary imports them (not timed), then `serve`
// (embedded SQLite and Redis) or, when TEST_DATABASE_URL is set, `api` and
// `worker` on PostgreSQL and a Redis server of the benchmark's own, each
// from an empty database, and the campaign is created and started through
// the API into an SMTP sink in a child process. It reports msgs/s, the
// time from the start request to the first message, and the CPU-seconds
// per 1,000 messages of the whole sender: our processes (from /proc), the
// PostgreSQL backends serving them (their pids from pg_stat_activity, CPU
// from /proc) and the server's background processes (WAL writer,
// checkpointer, autovacuum: shared with any other user of the server, so
// an upper bound) and the Redis server (from /proc); each part is
// reported too. It logs where
// the time goes: pprof's top functions of the sending process (a CPU
// profile of about the sending time, from 0.5 s after the start, through
// HANDOVER_PPROF_ADDR)
// and Redis's busiest commands per 1,000 messages (INFO commandstats).
func BenchmarkCampaignProcess(b *testing.B) {
	rows := 20000
	if n, err := strconv.Atoi(os.Getenv("BENCH_CAMPAIGN_ROWS")); err == nil && n > 0 {
		rows = n
	}
	bin := filepath.Join(b.TempDir(), "handover")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	csv := filepath.Join(b.TempDir(), "c.csv")
	writeCampaignCSV(b, csv, rows)
	b.Run("sqlite", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			benchProcessOnce(b, bin, csv, rows, false)
		}
	})
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b.Run("postgres", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				benchProcessOnce(b, bin, csv, rows, true)
			}
		})
	}
}

// TestSMTPSinkProcess is the SMTP sink BenchmarkCampaignProcess runs in a
// child process; run directly, it skips.
func TestSMTPSinkProcess(t *testing.T) { smtptest.ServeChild(t) }

func writeCampaignCSV(b *testing.B, path string, rows int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "客户编号,客户名称,手机号码,电子邮箱,地区")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "C%07d,客户%d,1%d%09d,user%d@example.com,上海\n", i, i, []int{3, 5, 8}[i%3], i, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchProcessOnce(b *testing.B, bin, csv string, rows int, postgres bool) {
	dir := b.TempDir()
	sink := smtptest.StartProcess(b, "TestSMTPSinkProcess", rows)
	addr, pprofAddr := freeAddr(b), freeAddr(b)
	env := append(os.Environ(), "HANDOVER_DATA_DIR="+dir, "HANDOVER_HTTP_ADDR="+addr, "HANDOVER_LOG_LEVEL=warn",
		"HANDOVER_SMTP_URL="+sink.URL(), "HANDOVER_EMAIL_FROM=Handover <notice@example.com>", "HANDOVER_EMAIL_RATE=0",
		"HANDOVER_RATE_LIMIT=1000")
	var pg *pgBackends
	var redisPID int
	var rdb *redis.Client
	if postgres {
		_, dbURL := dbtest.PostgresURL(b)
		u, _ := url.Parse(dbURL)
		q := u.Query()
		app := "handover-bench-" + strconv.Itoa(os.Getpid())
		q.Set("application_name", app)
		u.RawQuery = q.Encode()
		redisAddr := freeAddr(b)
		redisPID, rdb = startRedis(b, redisAddr)
		env = append(env, "HANDOVER_DATABASE_URL="+u.String(), "HANDOVER_REDIS_URL=redis://"+redisAddr+"/0",
			"HANDOVER_MASTER_KEY="+masterkey.Generate())
		pg = watchBackends(b, os.Getenv("TEST_DATABASE_URL"), app)
	}
	if out, err := cmdIn(bin, env, "import", csv).CombinedOutput(); err != nil {
		b.Fatalf("import: %v\n%s", err, out)
	}
	var procs []*exec.Cmd
	var logs syncBuffer
	start := func(args ...string) {
		cmd := cmdIn(bin, env, args...)
		cmd.Stderr, cmd.Stdout = &logs, &logs
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() })
		procs = append(procs, cmd)
	}
	sender := 0 // the process profiled: serve, or the worker
	b.Cleanup(func() {
		if b.Failed() {
			b.Logf("process log:\n%s", logs.String())
		}
	})
	token := func() string { return firstAdminToken(b, dir, time.Now().Add(60*time.Second), &logs) }
	var api *served
	if postgres {
		// The worker once the api has installed the defaults: both
		// starting on the empty database at once, one may fail on the
		// other's rows.
		start("api")
		api = &served{t: b, addr: addr, errOut: &logs, token: token()}
		// The worker's profiler: the sending happens there.
		env = append(env, "HANDOVER_PPROF_ADDR="+pprofAddr)
		start("worker")
		sender = 1
	} else {
		env = append(env, "HANDOVER_PPROF_ADDR="+pprofAddr)
		start("serve")
		api = &served{t: b, addr: addr, errOut: &logs, token: token()}
	}
	clearGate(b, api.call)
	var tr struct{ ID string }
	if code := api.call("POST", "/transfers", `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name","email"],"retention_days":90}`, &tr); code != http.StatusCreated {
		b.Fatalf("transfer: %d", code)
	}
	var tl struct{ Data []struct{ ID string } }
	if code := api.call("GET", "/templates?kind=transfer_notice&channel=email&locale=zh-CN", "", &tl); code != http.StatusOK || len(tl.Data) != 1 {
		b.Fatalf("templates: %d %+v", code, tl)
	}
	var c struct{ ID, Status string }
	if code := api.call("POST", "/campaigns", fmt.Sprintf(`{"name":"bench","transfer_id":%q,"channels":["email"],"templates":{"email":%q}}`,
		tr.ID, tl.Data[0].ID), &c); code != http.StatusCreated {
		b.Fatalf("create campaign: %d", code)
	}
	time.Sleep(time.Second) // let start-up work settle

	cpu0 := make([]float64, len(procs))
	for i, p := range procs {
		cpu0[i] = pidCPU(p.Process.Pid)
	}
	redis0 := pidCPU(redisPID)
	cmd0 := commandStats(rdb)
	pg.mark()
	stmts0 := pg.statements()
	profile := make(chan []byte, 1)
	profSecs := max(1, rows/10000) // about the sending time
	go func() {
		time.Sleep(500 * time.Millisecond)
		profile <- fetch("http://" + pprofAddr + "/debug/pprof/profile?seconds=" + strconv.Itoa(profSecs))
	}()
	b.StartTimer()
	t0 := time.Now()
	if code := api.call("POST", "/campaigns/"+c.ID+"/start", "", &c); code != http.StatusOK {
		b.Fatalf("start: %d\n%s", code, logs.String())
	}
	startAnswered := time.Since(t0)
	first, last, sinkCPU := sink.Wait(b, time.Duration(rows)*2*time.Millisecond+2*time.Minute)
	b.StopTimer()
	var ours float64
	for i, p := range procs {
		ours += pidCPU(p.Process.Pid) - cpu0[i]
	}
	redisCPU := pidCPU(redisPID) - redis0
	pgCPU, pgBG := pg.used()
	perK := func(s float64) float64 { return s / float64(rows) * 1000 }
	b.ReportMetric(float64(rows)/last.Sub(t0).Seconds(), "msgs/s")
	b.ReportMetric(first.Sub(t0).Seconds(), "first-msg-s")
	b.ReportMetric(startAnswered.Seconds(), "start-answer-s")
	b.ReportMetric(perK(ours+pgCPU+pgBG+redisCPU), "whole-cpu-s/1k-msgs")
	b.ReportMetric(perK(ours), "handover-cpu-s/1k-msgs")
	if postgres {
		b.ReportMetric(perK(pgCPU), "postgres-cpu-s/1k-msgs")
		b.ReportMetric(perK(pgBG), "postgres-bg-cpu-s/1k-msgs")
		b.ReportMetric(perK(redisCPU), "redis-cpu-s/1k-msgs")
	}
	b.ReportMetric(perK(sinkCPU), "sink-cpu-s/1k-msgs")
	if top := pprofTop(bin, <-profile); top != "" {
		// Printed, not logged: a benchmark's log is cut at ten lines.
		fmt.Printf("%s: where %s's CPU goes (pprof, %d s from 0.5 s after the start):\n%s", b.Name(), procs[sender].Args[1], profSecs, top)
	}
	if top := topStatements(stmts0, pg.statements(), rows); top != "" {
		fmt.Printf("%s: PostgreSQL statements by time (pg_stat_statements; the whole server's), per 1,000 messages:\n%s", b.Name(), top)
	}
	if rdb != nil {
		fmt.Printf("%s: Redis commands per 1,000 messages: %s\n", b.Name(), commandsPerK(cmd0, commandStats(rdb), rows))
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		b.Logf("process log:\n%s", logs.String())
	}
}

func cmdIn(bin string, env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	return cmd
}

// pidCPU is the user and system CPU-seconds process pid has used (with
// its waited-for children's), 0 when it is gone or pid is 0.
func pidCPU(pid int) float64 {
	if pid == 0 {
		return 0
	}
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses.
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var ticks float64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		n, _ := strconv.ParseFloat(f[i], 64)
		ticks += n
	}
	return ticks / 100 // USER_HZ
}

// startRedis runs a Redis server of the benchmark's own on addr.
func startRedis(b *testing.B, addr string) (int, *redis.Client) {
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", b.TempDir())
	if err := cmd.Start(); err != nil {
		b.Skipf("redis-server: %v", err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { rdb.Close() })
	for deadline := time.Now().Add(10 * time.Second); rdb.Ping(context.Background()).Err() != nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatal("redis-server did not answer")
		}
	}
	return cmd.Process.Pid, rdb
}

// commandStats is Redis's calls per command.
func commandStats(rdb *redis.Client) map[string]int64 {
	if rdb == nil {
		return nil
	}
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		return nil
	}
	out := map[string]int64{}
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		calls, _, _ := strings.Cut(rest, ",")
		out[strings.TrimPrefix(name, "cmdstat_")], _ = strconv.ParseInt(calls, 10, 64)
	}
	return out
}

func commandsPerK(before, after map[string]int64, rows int) string {
	type kv struct {
		name string
		n    int64
	}
	var list []kv
	var total int64
	for name, n := range after {
		if d := n - before[name]; d > 0 {
			list = append(list, kv{name, d})
			total += d
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].n > list[j].n })
	var parts []string
	for i, e := range list {
		if i == 8 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.1f", e.name, float64(e.n)*1000/float64(rows)))
	}
	return fmt.Sprintf("%.1f in all; %s", float64(total)*1000/float64(rows), strings.Join(parts, ", "))
}

func fetch(u string) []byte {
	resp, err := http.Get(u)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	return data
}

// pprofTop is `go tool pprof -top` of a CPU profile: the top functions by
// their own time, and by time including what they call.
func pprofTop(bin string, profile []byte) string {
	if len(profile) == 0 {
		return ""
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("handover-bench-%d.pprof", os.Getpid()))
	if err := os.WriteFile(path, profile, 0o600); err != nil {
		return ""
	}
	if dir := os.Getenv("BENCH_PPROF_DIR"); dir != "" { // keep it for a closer look
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("campaign-%d.pprof", time.Now().UnixNano())), profile, 0o600)
	}
	defer os.Remove(path)
	var out strings.Builder
	for _, args := range [][]string{{"-top", "-nodecount=20"}, {"-top", "-cum", "-nodecount=25"}} {
		cmd := exec.Command("go", append(append([]string{"tool", "pprof"}, args...), bin, path)...)
		data, err := cmd.Output()
		if err != nil {
			return ""
		}
		out.Write(data)
	}
	return out.String()
}

// pgBackends follows the CPU time of PostgreSQL's processes: the
// backends whose application_name is app (ours), and the server's
// background processes (WAL writer, checkpointer, autovacuum, ...), which
// work for every database of the server: theirs is an upper bound of our
// share. The pids come from pg_stat_activity, the CPU from /proc, sampled
// every 100 ms so that a process that exits is still counted (up to its
// last sample).
type pgBackends struct {
	admin *sql.DB
	mu    sync.Mutex
	last  map[int]float64 // pid: CPU-seconds at its latest sample
	start map[int]float64 // pid: at mark; a process started later counts from 0
	bg    map[int]bool    // background processes
}

func watchBackends(b *testing.B, adminURL, app string) *pgBackends {
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		b.Fatal(err)
	}
	admin.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	p := &pgBackends{admin: admin, last: map[int]float64{}, bg: map[int]bool{}}
	done := make(chan struct{})
	b.Cleanup(func() { cancel(); <-done; admin.Close() })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			p.sample(ctx, admin, app)
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *pgBackends) sample(ctx context.Context, admin *sql.DB, app string) {
	rows, err := admin.QueryContext(ctx, `SELECT pid, backend_type <> 'client backend' FROM pg_stat_activity
		WHERE application_name = $1 OR backend_type <> 'client backend'`, app)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		var bg bool
		if rows.Scan(&pid, &bg) != nil {
			return
		}
		if cpu := pidCPU(pid); cpu > 0 {
			p.mu.Lock()
			p.last[pid], p.bg[pid] = cpu, bg
			p.mu.Unlock()
		}
	}
}

// mark starts counting from now.
func (p *pgBackends) mark() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.start = map[int]float64{}
	for pid, cpu := range p.last {
		p.start[pid] = cpu
	}
}

// used is the CPU-seconds since mark of our backends and of the
// background processes.
func (p *pgBackends) used() (ours, background float64) {
	if p == nil {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid := range p.last {
		if cpu := pidCPU(pid); cpu > p.last[pid] {
			p.last[pid] = cpu
		}
		d := p.last[pid] - p.start[pid]
		if p.bg[pid] {
			background += d
		} else {
			ours += d
		}
	}
	return ours, background
}

// stmtStat is one pg_stat_statements entry's counters.
type stmtStat struct {
	query  string
	calls  int64
	ms     float64
	blocks int64 // shared blocks dirtied and written
}

// statements reads pg_stat_statements where the server loads it (nil
// otherwise).
func (p *pgBackends) statements() map[int64]stmtStat {
	if p == nil {
		return nil
	}
	rows, err := p.admin.Query(`SELECT queryid, query, calls, total_exec_time, shared_blks_dirtied + shared_blks_written
		FROM pg_stat_statements WHERE queryid IS NOT NULL`)
	if err != nil {
		return nil
	}
	defer rows.Close()
	out := map[int64]stmtStat{}
	for rows.Next() {
		var id int64
		var st stmtStat
		if rows.Scan(&id, &st.query, &st.calls, &st.ms, &st.blocks) == nil {
			out[id] = st
		}
	}
	return out
}

// topStatements is the statements that took the most time between two
// snapshots, per 1,000 messages.
func topStatements(before, after map[int64]stmtStat, rows int) string {
	if before == nil || after == nil {
		return ""
	}
	var list []stmtStat
	for id, st := range after {
		st.calls -= before[id].calls
		st.ms -= before[id].ms
		st.blocks -= before[id].blocks
		if st.calls > 0 {
			list = append(list, st)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ms > list[j].ms })
	var b strings.Builder
	k := 1000 / float64(rows)
	for i, st := range list {
		if i == 12 {
			break
		}
		q := strings.Join(strings.Fields(st.query), " ")
		if len(q) > 110 {
			q = q[:110] + "…"
		}
		fmt.Fprintf(&b, "  %8.1f ms %8.1f calls %8.1f blocks  %s\n", st.ms*k, float64(st.calls)*k, float64(st.blocks)*k, q)
	}
	return b.String()
}
