package campaigns_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/database"
)

// Survive tests: the fault rig's campaign (two `handover worker`
// processes) on engines the test owns and breaks for real: a Redis
// primary, one replica and three Sentinels failed over twice, and a
// PostgreSQL server restarted. Each prints recipients reached once, lost
// and duplicates; they run when TEST_FAULTS=1.

const sentinelMaster = "handover"

// freePort returns a TCP port on 127.0.0.1 nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// daemon starts a server process the test owns; it is killed when the
// test ends unless the test killed it first.
func daemon(t testing.TB, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// waitFor polls ok every 100 ms until it is true or d has passed.
func waitFor(t testing.TB, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sentinelSet is a Redis primary, one replica and three Sentinels.
type sentinelSet struct {
	t         testing.TB
	nodes     map[string]*exec.Cmd // "127.0.0.1:port" → redis-server
	sentinels []string
}

// newSentinelSet starts the set with Debian's redis-server (a Sentinel is
// `redis-server sentinel.conf --sentinel`) and waits until the Sentinels
// know the replica.
func newSentinelSet(t testing.TB) *sentinelSet {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	dir := t.TempDir()
	s := &sentinelSet{t: t, nodes: map[string]*exec.Cmd{}}
	primary := freePort(t)
	for i, port := range []int{primary, freePort(t)} {
		args := []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", dir, "--dbfilename", fmt.Sprintf("dump%d.rdb", port), "--logfile", filepath.Join(dir, fmt.Sprintf("redis%d.log", port))}
		if i > 0 {
			args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(primary))
		}
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		s.nodes[addr] = daemon(t, "redis-server", args...)
	}
	for range 3 {
		port := freePort(t)
		conf := filepath.Join(dir, fmt.Sprintf("sentinel%d.conf", port))
		body := fmt.Sprintf(`port %d
bind 127.0.0.1
dir %s
logfile %s
sentinel monitor %s 127.0.0.1 %d 2
sentinel down-after-milliseconds %s 1000
sentinel failover-timeout %s 4000
`, port, dir, filepath.Join(dir, fmt.Sprintf("sentinel%d.log", port)), sentinelMaster, primary, sentinelMaster, sentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		daemon(t, "redis-server", conf, "--sentinel")
		s.sentinels = append(s.sentinels, fmt.Sprintf("127.0.0.1:%d", port))
	}
	s.waitReady(fmt.Sprintf("127.0.0.1:%d", primary))
	return s
}

// URL is the set's HANDOVER_REDIS_URL.
func (s *sentinelSet) URL() string {
	return "redis-sentinel://" + strings.Join(s.sentinels, ",") + "/" + sentinelMaster
}

// ask runs fn against every Sentinel and reports whether all agree it is true.
func (s *sentinelSet) ask(fn func(ctx context.Context, sc *redis.SentinelClient) bool) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, a := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		ok := fn(ctx, sc)
		sc.Close()
		if !ok {
			return false
		}
	}
	return true
}

// primary is the master address the first Sentinel names.
func (s *sentinelSet) primary() string {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinels[0]})
	defer sc.Close()
	addr, err := sc.GetMasterAddrByName(context.Background(), sentinelMaster).Result()
	if err != nil || len(addr) != 2 {
		return ""
	}
	return net.JoinHostPort(addr[0], addr[1])
}

// waitReady waits until every Sentinel names primary as the master and
// knows one replica that is up, and the primary has a replica online.
func (s *sentinelSet) waitReady(primary string) {
	s.t.Helper()
	waitFor(s.t, "sentinels agree on "+primary+" with one replica in sync", 30*time.Second, func() bool {
		if !s.ask(func(ctx context.Context, sc *redis.SentinelClient) bool {
			addr, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
			if err != nil || len(addr) != 2 || net.JoinHostPort(addr[0], addr[1]) != primary {
				return false
			}
			reps, err := sc.Replicas(ctx, sentinelMaster).Result()
			if err != nil {
				return false
			}
			up := 0
			for _, r := range reps {
				if !strings.Contains(r["flags"], "down") && !strings.Contains(r["flags"], "disconnected") {
					up++
				}
			}
			return up >= 1
		}) {
			return false
		}
		c := redis.NewClient(&redis.Options{Addr: primary})
		defer c.Close()
		info, err := c.Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "role:master") && strings.Contains(info, "state=online")
	})
}

// failover asks a Sentinel to fail the primary over (SENTINEL FAILOVER)
// and waits until the set is ready again on the new primary.
func (s *sentinelSet) failover() (from, to string) {
	s.t.Helper()
	from = s.primary()
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.sentinels[0]})
	defer sc.Close()
	if err := sc.Failover(context.Background(), sentinelMaster).Err(); err != nil {
		s.t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
	waitFor(s.t, "failover away from "+from, 30*time.Second, func() bool { to = s.primary(); return to != "" && to != from })
	s.waitReady(to)
	return from, to
}

// killPrimary SIGKILLs the primary and waits until the Sentinels have
// promoted the replica.
func (s *sentinelSet) killPrimary() (from, to string) {
	s.t.Helper()
	from = s.primary()
	cmd := s.nodes[from]
	if cmd == nil {
		s.t.Fatalf("no process for primary %q", from)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		s.t.Fatal(err)
	}
	_ = cmd.Wait()
	waitFor(s.t, "sentinels promote a replica after "+from+" was killed", 60*time.Second, func() bool {
		return s.ask(func(ctx context.Context, sc *redis.SentinelClient) bool {
			addr, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
			if err == nil && len(addr) == 2 {
				to = net.JoinHostPort(addr[0], addr[1])
			}
			return err == nil && to != from
		})
	})
	return from, to
}

// inFlightBound is how many messages a worker may have handed to the relay
// without recording them when a fault strikes: one per handler slot
// (HANDOVER_WORKER_CONCURRENCY=4 in the rig).
const inFlightBound = 4

// TestSurviveSentinelFailover runs the campaign on two workers through
// redis-sentinel:// and fails the primary over twice mid-campaign: once
// by SENTINEL FAILOVER (the old primary is demoted and answers READONLY),
// once by SIGKILL (tasks not yet replicated are lost and the reconciler
// restores them from the database). Every recipient is reached, the
// campaign completes, no process is restarted, and the duplicates are at
// most the messages in flight at each fault.
func TestSurviveSentinelFailover(t *testing.T) {
	skipUnlessFaults(t)
	set := newSentinelSet(t)
	r := newRig(t, rigOptions{redisURL: set.URL()})
	workers := []*exec.Cmd{r.worker(), r.worker()}
	ready := r.watchReady()
	r.start()
	r.waitSent(r.recipients / 4)
	// The relay slows down while the Sentinels work (their timers, not
	// Handover, take most of the time), so both failovers strike a
	// campaign still sending.
	r.sink.SetDelay(300 * time.Millisecond)
	at := time.Now()
	from, to := set.failover()
	t.Logf("SENTINEL FAILOVER: %s → %s in %s (sink at %d)", from, to, time.Since(at).Round(10*time.Millisecond), r.sink.Count())
	killedAt := time.Now()
	from, to = set.killPrimary()
	t.Logf("primary %s SIGKILLed, %s promoted in %s (sink at %d)", from, to, time.Since(killedAt).Round(10*time.Millisecond), r.sink.Count())
	if n := r.sink.Count(); n >= r.recipients {
		t.Errorf("every message was sent (%d) before the second failover: it proved nothing", n)
	}
	r.sink.SetDelay(faultRelayDelay)
	r.survived("sentinel failover x2", at, workers, 2)
	longest, last := ready()
	fmt.Printf("fault %-22s api /readyz answered 503 or nothing for at most %s in a row; last answer %d\n", "sentinel failover x2",
		longest.Round(10*time.Millisecond), last)
	if last != http.StatusOK {
		t.Errorf("api /readyz answers %d after the failovers; want 200", last)
	}
}

// watchReady starts a `handover api` process on the rig's settings and
// polls its /readyz every 100 ms until the returned function is called,
// which reports the longest stretch without a 200 and the last status.
func (r *faultRig) watchReady() func() (longest time.Duration, last int) {
	r.t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(r.t))
	cmd := exec.Command(r.bin, "api", "--addr", addr)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { stopProcess(cmd, 10*time.Second) })
	status := func() int {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	waitFor(r.t, "api ready", time.Minute, func() bool { return status() == http.StatusOK })
	stop, done := make(chan struct{}), make(chan struct{})
	var longest time.Duration
	var last int
	go func() {
		defer close(done)
		var downSince time.Time
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			last = status()
			switch {
			case last != http.StatusOK && downSince.IsZero():
				downSince = time.Now()
			case last == http.StatusOK && !downSince.IsZero():
				longest = max(longest, time.Since(downSince))
				downSince = time.Time{}
			}
		}
	}()
	return func() (time.Duration, int) {
		close(stop)
		<-done
		return longest, last
	}
}

// survived waits for the campaign to complete and checks what every
// survive test promises: every recipient reached, no worker exited (no
// restart of Handover), and at most the messages in flight at each of
// faults duplicated.
func (r *faultRig) survived(fault string, at time.Time, workers []*exec.Cmd, faults int) {
	r.t.Helper()
	done := r.finish()
	res := r.report(fault, done.Sub(at))
	for i, w := range workers {
		if w.ProcessState != nil {
			r.t.Errorf("worker %d exited: %v", i, w.ProcessState)
		}
	}
	if bound := faults * len(workers) * inFlightBound; res.dups > bound {
		r.t.Errorf("%s: %d duplicates; want at most %d (messages in flight)", fault, res.dups, bound)
	}
}

// pgServer is a PostgreSQL server the test owns: initdb into a temp dir,
// pg_ctl to start, stop and restart it.
type pgServer struct {
	t        testing.TB
	bin, dir string
	port     int
	asUser   string // run the server as this user (initdb refuses root)
}

// newPGServer initialises and starts a server on a free port, or skips the
// test when PostgreSQL's binaries are not installed. Without durable, fsync
// is off (a fault test needs no disk flushes; a benchmark does).
func newPGServer(t testing.TB, durable bool) *pgServer {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no /usr/lib/postgresql/*/bin/initdb")
	}
	sort.Strings(bins)
	p := &pgServer{t: t, bin: filepath.Dir(bins[len(bins)-1]), port: freePort(t)}
	dir, err := os.MkdirTemp("", "handover-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root and there is no postgres user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = "postgres"
	}
	p.run("initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\n", p.port)
	if !durable {
		conf += "fsync = off\n"
	}
	f, err := os.OpenFile(filepath.Join(p.data(), "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteString(conf)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	p.start()
	t.Cleanup(func() { _ = p.ctl("stop", "-m", "immediate") })
	return p
}

func (p *pgServer) data() string { return filepath.Join(p.dir, "data") }

// command builds a PostgreSQL tool's command, as asUser when set.
func (p *pgServer) command(tool string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, tool)
	if p.asUser != "" {
		return exec.Command("runuser", append([]string{"-u", p.asUser, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (p *pgServer) run(tool string, args ...string) {
	p.t.Helper()
	if out, err := p.command(tool, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}

func (p *pgServer) ctl(args ...string) error {
	args = append([]string{"-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-w", "-t", "60"}, args...)
	out, err := p.command("pg_ctl", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl %s: %v\n%s", args[len(args)-1], err, out)
	}
	return nil
}

func (p *pgServer) start() {
	p.t.Helper()
	if err := p.ctl("start"); err != nil {
		p.t.Fatal(err)
	}
}

// crash stops the server as a crash does (pg_ctl stop -m immediate: every
// connection cut, crash recovery on the next start).
func (p *pgServer) crash() {
	p.t.Helper()
	if err := p.ctl("stop", "-m", "immediate"); err != nil {
		p.t.Fatal(err)
	}
}

// URL is the server's postgres database.
func (p *pgServer) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// TestSurvivePostgresRestart runs the campaign on two workers against a
// PostgreSQL server the test owns, crashes it mid-campaign (every pool in
// every process loses its connections), starts it again 5 s later, and
// later terminates every worker backend once more (a pool lost while the
// server stays up). Every recipient is reached, the campaign completes
// without a restart of Handover, and the duplicates are at most the
// messages in flight.
func TestSurvivePostgresRestart(t *testing.T) {
	skipUnlessFaults(t)
	pg := newPGServer(t, false)
	ctx := context.Background()
	// The test's own pool is named, so that it survives the backends' termination.
	db, err := database.Open(ctx, pg.URL()+"&application_name=survive-test", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, rigOptions{db: db, dbURL: pg.URL()})
	workers := []*exec.Cmd{r.worker(), r.worker()}
	r.start()
	r.waitSent(r.recipients / 4)
	at := time.Now()
	pg.crash()
	t.Logf("PostgreSQL crashed (sink at %d)", r.sink.Count())
	time.Sleep(5 * time.Second)
	pg.start()
	t.Logf("PostgreSQL up again after %s (sink at %d)", time.Since(at).Round(10*time.Millisecond), r.sink.Count())
	r.waitSent(r.recipients * 3 / 4)
	var killed int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND application_name <> 'survive-test' AND datname = current_database()) x`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	t.Logf("terminated %d backends (sink at %d)", killed, r.sink.Count())
	r.survived("postgres restarted", at, workers, 2)
}
