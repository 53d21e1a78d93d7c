package channels

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter keeps send rates shared by every worker through Redis, keyed per
// channel and sender (SMS sign name, WeChat app, SMTP relay) or per
// campaign. Each key is a GCRA bucket: Redis holds the time its next send
// is due, and a caller books a few sends at once, moving that time on by
// their share of the rate, then sleeps until they are due (Wait). So a rate
// is kept by the workers themselves, send by send, whatever the task
// queue's polling; only a wait longer than the caller can give goes back to
// it.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	// Clock, when set, is the time the buckets are reckoned in and slept
	// by (tests simulate one). Unset, the buckets use Redis's own clock,
	// so workers on hosts whose clocks differ share one time, and waits
	// are slept on the wall clock.
	Clock Clock
	// Metrics, when set, counts the waits and deferrals.
	Metrics *RateMetrics
}

// Clock is the time a Limiter reckons in and waits by.
type Clock interface {
	Now() time.Time
	// Sleep waits d or until ctx is done, whichever comes first, and
	// returns ctx's error in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// NewLimiter returns a Limiter whose Redis keys start with prefix.
func NewLimiter(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rdb: rdb, prefix: prefix}
}

// PaceSlice is how much of a second's rate one booking takes: a rate of
// 200/s is sent 20 at a time, ten times a second. Smaller slices send more
// evenly and cost more Redis round trips.
const PaceSlice = 100 * time.Millisecond

// Wait books up to n sends under key at perSecond (a PaceSlice's worth,
// at least one) and sleeps until they are due; it returns how many it
// booked, for the caller to send at once. When the bucket is booked further
// ahead than maxWait it books none and returns how much longer that is, so
// the caller can wait elsewhere (in the queue). perSecond <= 0 means no
// limit: all n, at once. A ctx done while sleeping returns its error; the
// booked sends are then lost to the rate.
func (l *Limiter) Wait(ctx context.Context, key string, perSecond, n int, maxWait time.Duration) (booked int, retryAfter time.Duration, err error) {
	if perSecond <= 0 || n <= 0 {
		return n, 0, nil
	}
	booked, wait, err := l.book(ctx, key, perSecond, min(n, sliceOf(perSecond)), maxWait)
	if err == nil {
		l.Metrics.observe(key, booked, wait)
	}
	if err != nil || booked == 0 {
		return 0, wait, err
	}
	if wait > 0 {
		if err := l.sleep(ctx, wait); err != nil {
			return 0, 0, err
		}
	}
	return booked, 0, nil
}

// sliceOf is how many sends at perSecond one booking takes.
func sliceOf(perSecond int) int {
	return max(1, int(int64(perSecond)*int64(PaceSlice)/int64(time.Second)))
}

// book moves key's bucket on by n sends at perSecond unless its next send
// is due more than maxWait from now. It returns n and how long until the
// first of them is due, or 0 and how much longer than maxWait the bucket is
// booked.
func (l *Limiter) book(ctx context.Context, key string, perSecond, n int, maxWait time.Duration) (int, time.Duration, error) {
	now := -1.0 // Redis's clock
	if l.Clock != nil {
		now = l.Clock.Now().Sub(epoch).Seconds()
	}
	interval := 1 / float64(perSecond)
	res, err := bookScript.Run(ctx, l.rdb, []string{l.prefix + key},
		strconv.FormatFloat(interval, 'g', -1, 64), n, strconv.FormatFloat(maxWait.Seconds(), 'f', 6, 64),
		strconv.FormatFloat(now, 'f', 6, 64)).Slice()
	if err != nil || len(res) != 2 {
		return 0, 0, fmt.Errorf("rate limit %s: %v", key, err)
	}
	got, _ := res[0].(int64)
	s, _ := res[1].(string)
	wait, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: wait %q", key, s)
	}
	return int(got), time.Duration(wait * float64(time.Second)), nil
}

// now is the time on l's clock.
func (l *Limiter) now() time.Time {
	if l.Clock != nil {
		return l.Clock.Now()
	}
	return time.Now()
}

func (l *Limiter) sleep(ctx context.Context, d time.Duration) error {
	if l.Clock != nil {
		return l.Clock.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// epoch is where bucket times count from: seconds since 2017 keep
// microseconds in a double for decades.
var epoch = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)

// bookScript is GCRA with bookings: the key holds when the bucket's next
// send is due (seconds since epoch). A booking of n sends starts then, or
// now if that has passed (an idle bucket saves up nothing), and moves it on
// by n intervals; it is refused when the start is more than max_wait away.
// ARGV: interval (s), n, max_wait (s), now (s since epoch; negative: use
// Redis's TIME). Answers {n, wait until the start (s)} or {0, how much
// longer than max_wait the bucket is booked (s)}; floats as strings, as
// Redis would truncate them to integers.
var bookScript = redis.NewScript(`
local interval = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local max_wait = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
if now < 0 then
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call("TIME")
  now = (tonumber(t[1]) - 1483228800) + tonumber(t[2]) / 1000000
end
local due = tonumber(redis.call("GET", KEYS[1]) or now) or now
if due < now then due = now end
local wait = due - now
if wait > max_wait then
  return {0, string.format("%.6f", wait - max_wait)}
end
local next_due = due + n * interval
redis.call("SET", KEYS[1], string.format("%.6f", next_due), "PX", math.ceil((next_due - now) * 1000) + 1000)
return {n, string.format("%.6f", wait)}
`)

// LimitKey names a limit: the channel and the sender it applies to.
func LimitKey(channel Name, sender string) string {
	return string(channel) + ":" + sender
}
