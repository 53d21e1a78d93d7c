package campaigns_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// killRecipients is the size of the campaign whose worker process is
// killed; killConcurrency × killBatch rows are in flight (batches smaller
// than the default 500 keep the duplicate bound tight).
const (
	killRecipients  = 20000
	killBatch       = 200
	killConcurrency = 4
)

// TestReliabilityWorkerSIGKILL builds ./cmd/handover, runs `handover
// worker` against the test's PostgreSQL schema, leased Redis database and
// in-process SMTP sink, SIGKILLs it in the middle of a 20,000-recipient
// email campaign and starts another: every recipient gets the message, and
// the duplicates (what the dead worker sent but never recorded) stay
// within the batches it had in flight. The reconciler, a periodic task in
// production, is run by the test every half second.
func TestReliabilityWorkerSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a worker process")
	}
	db, dbURL := dbtest.PostgresURL(t)
	redisURL := queuetest.RedisURL(t)
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "handover")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/handover").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	masterKey := masterkey.Generate()
	key, err := masterkey.Parse(masterKey)
	if err != nil {
		t.Fatal(err)
	}
	kr, err := pii.NewKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	vault, err := pii.OpenVault(ctx, db, kr)
	if err != nil {
		t.Fatal(err)
	}
	cs := customers.NewStore(db, vault)
	var b strings.Builder
	b.WriteString("姓名,邮箱\n")
	for i := range killRecipients {
		fmt.Fprintf(&b, "客户%d,%s\n", i, relAddr(i))
	}
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	im := importer.New(cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	if imp, err := im.Run(ctx, path, nil, "cli", nil); err != nil || imp.Created != killRecipients {
		t.Fatalf("import: %+v, %v", imp, err)
	}
	tr, ts, tmpl := seedTransfer(t, db, cs, channels.Email)
	sink := smtptest.New(t)
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	q, err := queue.Open(ctx, redisURL, queuetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = q.Close() })
	svc := campaigns.New(campaigns.Config{DB: db, Transfers: transfers.NewStore(db), Queue: q, Customers: cs, Templates: ts, PublicURL: "https://handover.test", BatchSize: killBatch,
		Channels: map[channels.Name]channels.Channel{channels.Email: mail}, Log: queuetest.Logger(t)})

	worker := func() *exec.Cmd {
		cmd := exec.Command(bin, "worker")
		cmd.Env = append(os.Environ(), "HANDOVER_DATA_DIR="+t.TempDir(), "HANDOVER_DATABASE_URL="+dbURL,
			"HANDOVER_REDIS_URL="+redisURL, "HANDOVER_MASTER_KEY="+masterKey, "HANDOVER_SMTP_URL="+sink.URL(),
			"HANDOVER_EMAIL_FROM=Handover <notice@example.com>", "HANDOVER_EMAIL_RATE=100000", "HANDOVER_LOG_LEVEL=warn",
			"HANDOVER_WORKER_CONCURRENCY="+fmt.Sprint(killConcurrency), "HANDOVER_CAMPAIGN_LEASE=3s",
			"HANDOVER_PUBLIC_URL=https://handover.test")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd
	}

	c := &campaigns.Campaign{Name: "kill", TransferID: tr.ID, Kind: templates.TransferNotice,
		Channels: []channels.Name{channels.Email}, Templates: map[channels.Name]string{channels.Email: tmpl}}
	if err := svc.Create(ctx, c, "staff:test"); err != nil {
		t.Fatal(err)
	}
	// Planned here, every batch of killBatch rows: Start would plan only
	// the first 1,000 recipients, the worker the rest in its own (default)
	// batch size, and the duplicate bound below is in killBatch rows.
	if err := svc.Plan(ctx, c.ID, "staff:test"); err != nil {
		t.Fatal(err)
	}
	first := worker()
	deadline := time.Now().Add(30 * time.Second)
	for sink.Count() < killRecipients/4 {
		if time.Now().After(deadline) {
			t.Fatalf("the first worker sent %d messages in 30 s", sink.Count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	atKill := sink.Count()
	worker()
	deadline = time.Now().Add(45 * time.Second)
	for {
		got, err := svc.FindCampaignByID(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == campaigns.StatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			counts, _ := rowCounts(ctx, svc, c.ID)
			var msg string
			var attempts, batch int
			_ = db.QueryRowContext(ctx, `SELECT error, attempts, batch FROM deliveries WHERE campaign_id = $1 AND status <> 'sent' LIMIT 1`,
				c.ID).Scan(&msg, &attempts, &batch)
			t.Logf("a row left: batch %d, attempts %d, error %q", batch, attempts, msg)
			t.Fatalf("campaign is %s after the kill; deliveries %v, sink %d", got.Status, counts, sink.Count())
		}
		if _, err := svc.Reconcile(ctx); err != nil {
			t.Logf("reconcile: %v", err)
		}
		time.Sleep(500 * time.Millisecond)
	}

	counts, err := rowCounts(ctx, svc, c.ID)
	if err != nil || counts["sent"] != killRecipients || len(counts) != 1 {
		t.Fatalf("deliveries %v, %v; want %d sent", counts, err, killRecipients)
	}
	checkProgress(t, svc, c.ID, counts)
	per := map[string]int{}
	for _, m := range sink.Messages() {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	dups := 0
	for i := range killRecipients {
		switch n := per[relAddr(i)]; {
		case n == 0:
			t.Errorf("%s got no message", relAddr(i))
		case n > 1:
			dups += n - 1
		}
	}
	if maxDup := killConcurrency * killBatch; dups > maxDup {
		t.Errorf("%d duplicate messages, more than the %d rows in flight", dups, maxDup)
	}
	t.Logf("%d recipients; killed at %d messages; %d accepted in all, %d duplicates", len(per), atKill, sink.Count(), dups)
}
