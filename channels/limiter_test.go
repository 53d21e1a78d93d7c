package channels_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/queue/queuetest"
)

func TestLimiterIsSharedAcrossWorkers(t *testing.T) {
	q := queuetest.Open(t)
	ctx := context.Background()
	// Two limiters on one Redis stand for two worker processes.
	a, b := channels.NewLimiter(q.Redis, "rl:"), channels.NewLimiter(q.Redis, "rl:")
	var granted atomic.Int64
	var wg sync.WaitGroup
	for _, l := range []*channels.Limiter{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, _, err := l.Take(ctx, channels.LimitKey(channels.SMS, "华东五金"), 10, 8)
			if err != nil {
				t.Error(err)
			}
			granted.Add(int64(n))
		}()
	}
	wg.Wait()
	// A burst of 32 asked at once against 10/s: the GCRA burst equals the
	// rate, so at most 10 (+1 for a tick passing) are granted.
	if g := granted.Load(); g < 10 || g > 11 {
		t.Fatalf("granted %d of 32 at 10/s across two limiters; want 10", g)
	}
	n, wait, err := a.Take(ctx, channels.LimitKey(channels.SMS, "华东五金"), 10, 5)
	if err != nil || n != 0 || wait <= 0 {
		t.Fatalf("after the burst: allowed %d, wait %v, %v; want 0 and a wait", n, wait, err)
	}
	if n, _, _ := a.Take(ctx, channels.LimitKey(channels.SMS, "另一个签名"), 10, 5); n != 5 {
		t.Fatalf("another sign name shares the limit: allowed %d", n)
	}
	if n, wait, _ := a.Take(ctx, "unlimited", 0, 1000); n != 1000 || wait != 0 {
		t.Fatalf("no limit: %d %v", n, wait)
	}
}
