package channels

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// Limiter is a send-rate limit shared by every worker through Redis (GCRA),
// keyed per channel and per sender (SMS sign name, WeChat app, SMTP host).
type Limiter struct {
	rl     *redis_rate.Limiter
	prefix string
}

// NewLimiter returns a Limiter whose Redis keys start with prefix.
func NewLimiter(rdb redis.UniversalClient, prefix string) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb), prefix: prefix}
}

// Take asks to send n messages under key at perSecond. It returns how many
// may go now (counted against the limit) and, when fewer than n, how long
// to wait before asking again for the rest. perSecond <= 0 means no limit.
func (l *Limiter) Take(ctx context.Context, key string, perSecond, n int) (allowed int, retryAfter time.Duration, err error) {
	if perSecond <= 0 || n <= 0 {
		return n, 0, nil
	}
	res, err := l.rl.AllowAtMost(ctx, l.prefix+key, redis_rate.PerSecond(perSecond), n)
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: %w", key, err)
	}
	if res.Allowed < n {
		retryAfter = res.RetryAfter
		if retryAfter <= 0 {
			retryAfter = time.Second / time.Duration(perSecond)
		}
	}
	return res.Allowed, retryAfter, nil
}

// LimitKey names a limit: the channel and the sender it applies to.
func LimitKey(channel Name, sender string) string {
	return string(channel) + ":" + sender
}
