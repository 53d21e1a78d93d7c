package feedback_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/transfers"
)

// BenchmarkTicketQueue measures the queue's first page (50 tickets, by
// deadline) with BENCH_TICKET_ROWS tickets in the database (default
// 1,000,000; the figure): unfiltered and with each common filter,
// reporting p95 and p50 over b.N pages per filter. The tickets are written
// directly in batches (the inbound path is measured by
// BenchmarkInboundToTickets); a fifth of them are open.
func BenchmarkTicketQueue(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("BENCH_TICKET_ROWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	b.Run("sqlite", func(b *testing.B) { benchQueue(b, dbtest.SQLite(b), n) })
	b.Run("postgres", func(b *testing.B) { benchQueue(b, dbtest.Postgres(b), n) })
}

func benchQueue(b *testing.B, db *database.DB, n int) {
	ctx := context.Background()
	seedTickets(b, db, n)
	svc := feedback.New(feedback.Config{DB: db, Transfers: transfers.NewStore(db)})
	filters := map[string]feedback.Filter{
		"all":        {},
		"unassigned": {Unassigned: true},
		"assignee":   {AssigneeID: "staff-3"},
		"category":   {Category: "complaint"},
		"breached":   {Breached: true},
		"channel":    {Channel: "sms"},
	}
	names := make([]string, 0, len(filters))
	for name := range filters {
		names = append(names, name)
	}
	sort.Strings(names)
	b.ResetTimer()
	for _, name := range names {
		f := filters[name]
		f.Limit = 50
		times := make([]time.Duration, 0, b.N)
		for range max(b.N, 20) {
			start := time.Now()
			if _, _, err := svc.FindTickets(ctx, f); err != nil {
				b.Fatal(err)
			}
			times = append(times, time.Since(start))
		}
		sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
		b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, name+"-p95-ms")
		b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, name+"-p50-ms")
	}
}

// seedTickets writes n tickets: every fifth open (new/open/pending) with a
// deadline spread over two weeks, the rest resolved or closed.
func seedTickets(b *testing.B, db *database.DB, n int) {
	b.Helper()
	ctx := context.Background()
	base := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	cats := []string{"general", "complaint", "correction", "survey"}
	chans := []string{"sms", "wechat", "email"}
	open := []string{"new", "open", "pending"}
	cols := []string{"id", "customer_id", "status", "priority", "category", "assignee_id", "channel",
		"first_response_due", "resolution_due", "sla_due", "breached", "created_at", "updated_at"}
	const batch = 20_000
	for from := 0; from < n; from += batch {
		rows := min(batch, n-from)
		err := db.InTx(ctx, func(tx *database.Tx) error {
			return database.InsertRows(ctx, tx, "tickets", cols, "", rows, func(i int, dst []any) []any {
				k := from + i
				created := base.Add(time.Duration(k) * time.Second)
				status, due := "resolved", far
				if k%5 == 0 {
					status, due = open[k%3], created.Add(time.Duration(k%336)*time.Hour)
				} else if k%2 == 0 {
					status = "closed"
				}
				assignee := ""
				if k%7 != 0 {
					assignee = fmt.Sprintf("staff-%d", k%10)
				}
				// customer_id '' keeps the one-open-per-topic index out of it.
				return append(dst, ulid.Make().String(), "", status, "normal", cats[k%4], assignee, chans[k%3],
					due, due, due, k%50 == 0 && status != "resolved" && status != "closed", created, created)
			})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if db.Dialect == database.Postgres {
		if _, err := db.ExecContext(ctx, `ANALYZE tickets`); err != nil {
			b.Fatal(err)
		}
	} else if _, err := db.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
}
