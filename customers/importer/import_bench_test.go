package importer_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// BenchmarkImport imports a generated CSV of BENCH_ROWS rows
// (default 100,000; BENCH_BATCH sets the batch size) into SQLite and, when TEST_DATABASE_URL is set,
// PostgreSQL, reporting rows/s and the peak heap.
func BenchmarkImport(b *testing.B) {
	rows := 100000
	if v := os.Getenv("BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("BENCH_ROWS=%q is not a positive number", v)
		}
		rows = n
	}
	path := benchCSV(b, rows)
	run := func(b *testing.B, open func(testing.TB) *database.DB) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			db := open(b)
			s := newStore(b, db)
			im := newImporter(b, s)
			if v, err := strconv.Atoi(os.Getenv("BENCH_BATCH")); err == nil {
				im.BatchSize = v
			}
			runtime.GC()
			stopPeak := watchPeakHeap()
			b.StartTimer()
			start := time.Now()
			imp, err := im.Run(context.Background(), path, nil, "cli", nil)
			elapsed := time.Since(start)
			peak := stopPeak()
			if err != nil {
				b.Fatal(err)
			}
			if imp.Created != int64(rows) {
				b.Fatalf("created %d of %d rows (rejected %d)", imp.Created, rows, imp.Rejected)
			}
			b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		}
	}
	b.Run("sqlite", func(b *testing.B) { run(b, dbtest.SQLite) })
	if os.Getenv("TEST_DATABASE_URL") != "" {
		b.Run("postgres", func(b *testing.B) { run(b, dbtest.Postgres) })
	}
}

// benchCSV writes rows customers with unique phones and emails.
func benchCSV(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "bench.csv")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "客户编号,客户名称,手机号码,电子邮箱,公司,地址,省份,标签")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "C%07d,客户%d,1%d%09d,user%d@example.com,公司%d,上海市浦东新区世纪大道%d号,上海,\"vip,批发\"\n",
			i, i, []int{3, 5, 8}[i%3], i, i, i%1000, i)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// watchPeakHeap samples the live heap until the returned func is called,
// which returns the peak seen.
func watchPeakHeap() func() uint64 {
	var peak atomic.Uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var ms runtime.MemStats
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > peak.Load() {
				peak.Store(ms.HeapAlloc)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak.Load()
	}
}
