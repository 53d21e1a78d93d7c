package campaigns_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
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
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// BenchmarkCampaignEmail sends an email campaign to BENCH_CAMPAIGN_ROWS
// customers (default 20,000) into an SMTP sink on loopback, run in a child
// process (smtptest.StartProcess), timing from Start to the sink's last
// message, on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL. It
// reports msgs/s; the sender's CPU-seconds per 1,000 messages (this
// process: planning, Asynq worker, rendering, SMTP client and, on SQLite,
// the database), the sink's, and the whole machine's (PostgreSQL and
// Redis included); the time to the first message; and the sender's peak
// RSS from Start on. BENCH_SMTP_POOL sets the email channel's connection
// pool (default the channel's own).
func BenchmarkCampaignEmail(b *testing.B) {
	rows := 20000
	if v := os.Getenv("BENCH_CAMPAIGN_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_CAMPAIGN_ROWS=%q is not a positive number", v)
		}
		rows = n
	}
	path := campaignCSV(b, rows)
	run := func(b *testing.B, open func(testing.TB) *database.DB) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			benchCampaignOnce(b, open(b), path, rows)
		}
	}
	b.Run("sqlite", func(b *testing.B) { run(b, dbtest.SQLite) })
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b.Run("postgres", func(b *testing.B) { run(b, dbtest.Postgres) })
	}
}

func benchCampaignOnce(b *testing.B, db *database.DB, path string, rows int) {
	ctx := context.Background()
	vault := piitest.Vault(b, db)
	cs := customers.NewStore(db, vault)
	im := importer.New(cs, filepath.Join(b.TempDir(), "spool"), nil)
	b.Cleanup(im.Wait)
	if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != int64(rows) {
		b.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, tmpl := seedTransfer(b, db, cs, channels.Email)
	sink := smtptest.StartProcess(b, "TestSMTPSinkProcess", rows)
	pool, _ := strconv.Atoi(os.Getenv("BENCH_SMTP_POOL")) // 0: the channel's default
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 10 * time.Second, PoolSize: pool})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = mail.Close() })
	q := queuetest.Open(b)
	chs := map[channels.Name]channels.Channel{channels.Email: mail}
	svc := campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: q, Customers: cs, Templates: ts, Channels: chs, PublicURL: "https://handover.test"})
	c := &campaigns.Campaign{Name: "bench", TransferID: tr.ID, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: tmpl}}
	if err := svc.Create(ctx, c, "staff:test"); err != nil {
		b.Fatal(err)
	}
	srv := q.NewServer(queue.ServerConfig{Concurrency: 8, Queues: campaigns.Queues(chs),
		TaskCheckInterval: 50 * time.Millisecond, DelayedTaskCheckInterval: 200 * time.Millisecond, ShutdownTimeout: 10 * time.Second})
	mux := asynq.NewServeMux()
	svc.Register(mux)
	if err := srv.Start(mux); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)

	// Peak RSS from here on: the import and the setup do not count.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	cpu0, machine0 := cpuSeconds(), machineCPUSeconds()
	b.StartTimer()
	start := time.Now()
	if err := svc.Start(ctx, c.ID, "staff:test"); err != nil {
		b.Fatal(err)
	}
	first, last, sinkCPU := sink.Wait(b, time.Duration(rows)*time.Millisecond+2*time.Minute)
	b.StopTimer()
	cpu, machine := cpuSeconds()-cpu0, machineCPUSeconds()-machine0
	perK := func(s float64) float64 { return s / float64(rows) * 1000 }
	b.ReportMetric(float64(rows)/last.Sub(start).Seconds(), "msgs/s")
	b.ReportMetric(perK(cpu), "cpu-s/1k-msgs")
	b.ReportMetric(perK(sinkCPU), "sink-cpu-s/1k-msgs")
	b.ReportMetric(perK(machine), "machine-cpu-s/1k-msgs")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
	b.ReportMetric(first.Sub(start).Seconds(), "first-msg-s")
}

// TestSMTPSinkProcess is the SMTP sink BenchmarkCampaignEmail runs in a
// child process; run directly, it skips.
func TestSMTPSinkProcess(t *testing.T) { smtptest.ServeChild(t) }

// machineCPUSeconds is the CPU time every process on the machine has used
// since boot (/proc/stat: all but idle and iowait), 0 where unreadable.
func machineCPUSeconds() float64 {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	var ticks float64
	for i, v := range f[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is in user already
			continue
		}
		n, _ := strconv.ParseFloat(v, 64)
		ticks += n
	}
	return ticks / 100 // USER_HZ
}

// campaignCSV writes rows customers with unique phones, emails and WeChat
// openids.
func campaignCSV(tb testing.TB, rows int) string {
	return writeCSV(tb, "客户编号,客户名称,手机号码,电子邮箱,openid,地区", rows, func(w io.Writer, i int) {
		fmt.Fprintf(w, "C%07d,客户%d,1%d%09d,user%d@example.com,o-bench-%07d,上海\n", i, i, []int{3, 5, 8}[i%3], i, i, i)
	})
}

// writeCSV writes a CSV file of header and rows lines, each written by line.
func writeCSV(tb testing.TB, header string, rows int, line func(w io.Writer, i int)) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "customers.csv")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, header)
	for i := range rows {
		line(w, i)
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	return path
}

// cpuSeconds is the user and system CPU time this process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatalf("VmHWM: %v", err)
			}
			return kb << 10
		}
	}
	return 0
}

// BenchmarkCampaignPlan plans a campaign to BENCH_PLAN_ROWS customers
// (default 20,000; `make bench-plan` runs 1,000,000): every delivery row
// written and every batch task enqueued, in the caller (Service.Plan), on
// SQLite and, when TEST_DATABASE_URL is set, PostgreSQL. It reports rows/s,
// the plan's seconds and peak RSS.
func BenchmarkCampaignPlan(b *testing.B) {
	rows := 20000
	if v := os.Getenv("BENCH_PLAN_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_PLAN_ROWS=%q is not a positive number", v)
		}
		rows = n
	}
	path := campaignCSV(b, rows)
	run := func(b *testing.B, open func(testing.TB) *database.DB) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := open(b)
			ctx := context.Background()
			vault := piitest.Vault(b, db)
			cs := customers.NewStore(db, vault)
			im := importer.New(cs, filepath.Join(b.TempDir(), "spool"), nil)
			if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != int64(rows) {
				b.Fatalf("import: %+v, %v", imp, err)
			}
			im.Wait()
			tr, ts, tmpl := seedTransfer(b, db, cs, channels.Email)
			chs := map[channels.Name]channels.Channel{channels.Email: nil}
			svc := campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: queuetest.Open(b), Customers: cs, Templates: ts, Channels: chs})
			c := &campaigns.Campaign{Name: "plan", TransferID: tr.ID, Kind: templates.TransferNotice,
				Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: tmpl}}
			if err := svc.Create(ctx, c, "staff:test"); err != nil {
				b.Fatal(err)
			}
			_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
			b.StartTimer()
			start := time.Now()
			if err := svc.Plan(ctx, c.ID, "staff:test"); err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if got, _ := svc.FindCampaignByID(ctx, c.ID); got == nil || got.Planned != rows || got.PlannedAt == nil {
				b.Fatalf("planned %+v", got)
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(elapsed.Seconds(), "plan-s")
			b.ReportMetric(float64(peakRSS(b))/(1<<20), "peak-RSS-MB")
		}
	}
	b.Run("sqlite", func(b *testing.B) { run(b, dbtest.SQLite) })
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b.Run("postgres", func(b *testing.B) { run(b, dbtest.Postgres) })
	}
}
