package web_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// BenchmarkTicketQueuePage: the first page of the queue, filtered
// (unassigned SMS tickets, nearest deadline first), with BENCH_TICKETS
// tickets in the database (default 100,000; the figure is
// 1,000,000), one in ten open. Reports the p95 of 200 page loads (target
// < 100 ms): tickets, counts, preview lines, masked customers, rendering.
func BenchmarkTicketQueuePage(b *testing.B) {
	n := 100000
	if v, err := strconv.Atoi(os.Getenv("BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	b.Run("sqlite", func(b *testing.B) { benchQueuePage(b, dbtest.SQLite(b), n) })
	b.Run("postgres", func(b *testing.B) { benchQueuePage(b, dbtest.Postgres(b), n) })
}

func benchQueuePage(b *testing.B, db *database.DB, n int) {
	a := newApp(b, db, queuetest.Embedded(b), "HANDOVER_RATE_LIMIT=1000000")
	seedTickets(b, db, n)
	_, email := a.staffMember(staff.Agent, "agent")
	w := a.newWebClient()
	w.login(email, testPassword)
	lat := make([]time.Duration, 0, 200)
	b.ResetTimer()
	for range 200 {
		t0 := time.Now()
		resp, body := w.get("/tickets?view=unassigned&channel=sms")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `data-row`) {
			b.Fatalf("queue page: %d", resp.StatusCode)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(0, "ns/op")
}

// seedTickets writes n tickets straight into the table, 1,000 a statement:
// one in ten open (each its own customer id, as the one-open-ticket index
// wants), across channels and categories, deadlines spread over a week.
func seedTickets(b testing.TB, db *database.DB, n int) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	chans := []string{"sms", "wechat", "email", "portal"}
	cats := []string{"general", "complaint", "correction", "survey"}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	for start := 0; start < n; start += 1000 {
		var rows []string
		var args []any
		for i := start; i < min(start+1000, n); i++ {
			status, due := "closed", far
			if i%10 == 0 {
				status, due = "open", now.Add(time.Duration(i%(7*24*60))*time.Minute)
			}
			created := now.Add(-time.Duration(n-i) * time.Second)
			base := len(args)
			rows = append(rows, fmt.Sprintf("($%d, $%d, $%d, 'normal', $%d, $%d, $%d, $%d, $%d, $%d, $%d)",
				base+1, base+2, base+3, base+4, base+5, base+6, base+7, base+8, base+9, base+10))
			args = append(args, fmt.Sprintf("01BENCH%019d", i), fmt.Sprintf("c%09d", i), status, cats[i/10%len(cats)], chans[i%len(chans)],
				due, due, due, created, created)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO tickets (id, customer_id, status, priority, category, channel, first_response_due,
			resolution_due, sla_due, created_at, updated_at) VALUES `+strings.Join(rows, ","), args...)
		if err != nil {
			b.Fatal(err)
		}
	}
	// Planner statistics, as autovacuum (or SQLite's optimize) would keep.
	if _, err := db.ExecContext(ctx, `ANALYZE tickets`); err != nil {
		b.Fatal(err)
	}
}
