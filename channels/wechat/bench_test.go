package wechat_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
)

// BenchmarkCallback pushes verified plain-mode text messages through the
// handler into a record func that stores nothing; it reports messages per
// second and the 99th-percentile latency.
func BenchmarkCallback(b *testing.B) {
	c, fake := newPlainChannel(b)
	h := c.CallbackHandler(func(context.Context, []channels.InboundEvent) (int, error) { return 1, nil }, quietLog())
	raw := []byte(wechatfake.TextXML("openid-bench", "你好，我想预约", 1))
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		// A signed query works once: each push has its own nonce.
		r := httptest.NewRequest(http.MethodPost, fake.SignedCallback("", false).URL.String(), bytes.NewReader(raw))
		w := httptest.NewRecorder()
		t0 := time.Now()
		h.ServeHTTP(w, r)
		lat = append(lat, time.Since(t0))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkSend sends one template message per op through the real SDK to
// the fake over loopback HTTP, token cached in miniredis. Allocations
// include the fake server's, which runs in the same process.
func BenchmarkSend(b *testing.B) {
	c, _ := newChannel(b)
	ctx := context.Background()
	msgs := []channels.Message{notice("", "openid-bench")}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		msgs[0].DeliveryID = "dlv-" + strconv.Itoa(i)
		if r := c.Send(ctx, msgs); r[0].Err != nil {
			b.Fatal(r[0].Err)
		}
	}
}
