package channels_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/queue/queuetest"
)

// simClock is one simulated worker's view of time: Sleep moves it on.
type simClock struct{ now time.Time }

func (c *simClock) Now() time.Time { return c.now }

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	return ctx.Err()
}

var simStart = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// TestLimiterPacesWorkersToTheRate simulates workers (one Limiter each on
// one Redis, as in separate processes) sending as fast as their rate lets
// them over five simulated minutes, each send taking a random time, and
// counts the sends in every 60-second window: each is the rate's, within
// 5%, with one worker and with three times ten. Events are run in time
// order, so no wall-clock timing is involved.
func TestLimiterPacesWorkersToTheRate(t *testing.T) {
	q := queuetest.Open(t)
	for _, tc := range []struct {
		rate, workers, batch int
		sendTime             time.Duration // the most one send call takes
	}{
		{rate: 1, workers: 1, batch: 500},
		{rate: 4, workers: 30, batch: 500},
		{rate: 20, workers: 1, batch: 500, sendTime: 40 * time.Millisecond},
		{rate: 50, workers: 30, batch: 100, sendTime: 200 * time.Millisecond},
		{rate: 200, workers: 1, batch: 500, sendTime: 50 * time.Millisecond},
		{rate: 200, workers: 30, batch: 500, sendTime: 300 * time.Millisecond},
		{rate: 2000, workers: 3, batch: 500, sendTime: 80 * time.Millisecond},
		{rate: 2000, workers: 30, batch: 50, sendTime: 300 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("%d/s by %d", tc.rate, tc.workers), func(t *testing.T) {
			key := fmt.Sprintf("sim:%d:%d", tc.rate, tc.workers)
			rng := rand.New(rand.NewPCG(uint64(tc.rate), uint64(tc.workers)))
			clocks := make([]*simClock, tc.workers)
			limiters := make([]*channels.Limiter, tc.workers)
			for i := range clocks {
				// Workers start a little apart, as tasks are picked up.
				clocks[i] = &simClock{now: simStart.Add(time.Duration(rng.Int64N(int64(time.Second))))}
				limiters[i] = channels.NewLimiter(q.Redis, "rl:")
				limiters[i].Clock = clocks[i]
			}
			const span = 5 * time.Minute
			var sends []time.Time
			for {
				w := 0
				for i, c := range clocks {
					if c.now.Before(clocks[w].now) {
						w = i
					}
				}
				c := clocks[w]
				if c.now.After(simStart.Add(span + 2*time.Second)) {
					break
				}
				n, wait, err := limiters[w].Wait(context.Background(), key, tc.rate, tc.batch, channels.MaxPaceWait)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					// Booked too far ahead: this worker waits in the queue.
					c.now = c.now.Add(wait + time.Second)
					continue
				}
				if n > tc.batch || n > max(1, tc.rate/10) {
					t.Fatalf("booked %d at once at %d/s; want a tenth of a second's worth", n, tc.rate)
				}
				for range n {
					sends = append(sends, c.now)
				}
				if tc.sendTime > 0 {
					c.now = c.now.Add(time.Duration(rng.Int64N(int64(tc.sendTime))))
				}
			}
			checkWindows(t, sends, tc.rate, span)
		})
	}
}

// checkWindows counts sends in every 60-second window starting on a
// whole second within span (the windows' counts are the rate's, within
// 5%), and in every one-second window (never more than a second's worth
// plus one booking).
func checkWindows(t *testing.T, sends []time.Time, rate int, span time.Duration) {
	t.Helper()
	slices.SortFunc(sends, time.Time.Compare)
	before := func(at time.Time) int {
		n, _ := slices.BinarySearchFunc(sends, at, time.Time.Compare)
		for n > 0 && !sends[n-1].Before(at) {
			n--
		}
		return n
	}
	count := func(from time.Time, d time.Duration) int { return before(from.Add(d)) - before(from) }
	want := float64(rate * 60)
	for from := simStart; !from.Add(time.Minute).After(simStart.Add(span)); from = from.Add(time.Second) {
		got := float64(count(from, time.Minute))
		if got < want*0.95 || got > want*1.05 {
			t.Fatalf("%v sends in the minute from %s at %d/s; want %v ± 5%%", got, from.Sub(simStart), rate, want)
		}
	}
	for from := simStart; from.Before(simStart.Add(span)); from = from.Add(time.Second) {
		if got := count(from, time.Second); got > rate+max(1, rate/10) {
			t.Fatalf("%d sends in the second from %s at %d/s", got, from.Sub(simStart), rate)
		}
	}
}

// frozenClock stands still; Sleep only adds up what it was asked to wait.
type frozenClock struct {
	now   time.Time
	slept []time.Duration
}

func (c *frozenClock) Now() time.Time { return c.now }

func (c *frozenClock) Sleep(ctx context.Context, d time.Duration) error {
	c.slept = append(c.slept, d)
	return ctx.Err()
}

// TestLimiterIsSharedAndKeyed books from two limiters (two workers) on one
// key at a frozen instant: each booking waits one interval longer than the
// last, until the bucket is booked further ahead than the caller's limit;
// another key and no rate are not held.
func TestLimiterIsSharedAndKeyed(t *testing.T) {
	q := queuetest.Open(t)
	ctx := context.Background()
	clock := &frozenClock{now: simStart}
	a, b := channels.NewLimiter(q.Redis, "rl:"), channels.NewLimiter(q.Redis, "rl:")
	a.Clock, b.Clock = clock, clock
	key := channels.LimitKey(channels.SMS, "华东五金")
	for i := range 11 { // at 10/s a booking is one send; 0 s to 1 s ahead
		l := []*channels.Limiter{a, b}[i%2]
		if n, wait, err := l.Wait(ctx, key, 10, 5, time.Second); err != nil || n != 1 || wait != 0 {
			t.Fatalf("booking %d: %d, %v, %v; want 1", i, n, wait, err)
		}
	}
	for i, d := range clock.slept {
		if want := time.Duration(i+1) * 100 * time.Millisecond; d < want-time.Millisecond || d > want+time.Millisecond {
			t.Fatalf("booking %d slept %v; want %v", i+1, d, want)
		}
	}
	n, wait, err := a.Wait(ctx, key, 10, 5, time.Second)
	if err != nil || n != 0 || wait < 90*time.Millisecond || wait > 110*time.Millisecond {
		t.Fatalf("booked 1.1 s ahead: %d, %v, %v; want none and 0.1 s more", n, wait, err)
	}
	if n, _, _ := b.Wait(ctx, channels.LimitKey(channels.SMS, "另一个签名"), 10, 5, time.Second); n != 1 {
		t.Fatalf("another sign name shares the limit: allowed %d", n)
	}
	if n, _, _ := a.Wait(ctx, key, 1000, 500, 0); n != 0 {
		t.Fatalf("another rate on a full bucket booked %d", n)
	}
	if n, wait, _ := a.Wait(ctx, "unlimited", 0, 1000, 0); n != 1000 || wait != 0 {
		t.Fatalf("no limit: %d %v", n, wait)
	}
}
