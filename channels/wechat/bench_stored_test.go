package wechat_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// BenchmarkCallbackStored is the figure: verified plain-mode text
// messages over loopback HTTP, each stored by the real Inbox (SQLite,
// sealed, deduplicated) and its processing task enqueued (real Redis when
// TEST_REDIS_URL is set), from 8 concurrent senders. It reports messages
// per second and the 99th-percentile latency (target ≥ 2,000/s, p99 < 20 ms).
func BenchmarkCallbackStored(b *testing.B) {
	c, fake := newPlainChannel(b)
	db := dbtest.SQLite(b)
	inbox := inboxtest.New(b, db, piitest.Vault(b, db), queuetest.Open(b))
	srv := httptest.NewServer(c.CallbackHandler(inbox.Record, quietLog()))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for range 8 {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				body := wechatfake.TextXML("openid-bench", "你好，我想更正地址", int64(1_000_000+i))
				// A signed query works once: each push has its own nonce.
				target := srv.URL + "/hooks/wechat?" + fake.SignedCallback("", false).URL.RawQuery
				t0 := time.Now()
				resp, err := client.Post(target, "text/xml", strings.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var stored int
	db.QueryRow(`SELECT COUNT(*) FROM inbound_events`).Scan(&stored)
	if stored != b.N {
		b.Fatalf("stored %d of %d messages", stored, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
