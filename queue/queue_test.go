package queue_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

func TestOpenEmbedded(t *testing.T) {
	t.Parallel()
	q := queuetest.Embedded(t)
	if !q.Embedded {
		t.Fatal("empty URL should give the embedded Redis")
	}
	ctx := context.Background()
	if err := q.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// Keys with a TTL must expire as time passes, as on a real Redis:
	// unique-task locks and rate-limit buckets rely on it.
	if err := q.Redis.Set(ctx, "k", "v", 100*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(3 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := q.Redis.Get(ctx, "k").Err()
		if errors.Is(err, redis.Nil) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("key with a 100ms TTL still there after 3s (err=%v)", err)
		}
	}
}

func TestOpenRealRedis(t *testing.T) {
	t.Parallel()
	q := queuetest.Redis(t) // skips without TEST_REDIS_URL
	if q.Embedded {
		t.Fatal("a redis:// URL should not give the embedded Redis")
	}
	if err := q.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, tt := range []struct{ url, want string }{
		{"memcached://127.0.0.1:11211", "HANDOVER_REDIS_URL"},
		// Port 1 on loopback refuses connections at once.
		{"redis://:pw@127.0.0.1:1/0", "cannot reach Redis at 127.0.0.1:1"},
	} {
		q, err := queue.Open(ctx, tt.url, queuetest.Logger(t))
		if err == nil {
			q.Close()
			t.Fatalf("Open(%q): want error", tt.url)
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) error %q does not contain %q", tt.url, err, tt.want)
		}
		if strings.Contains(err.Error(), ":pw@") {
			t.Errorf("Open(%q) error leaks the password: %q", tt.url, err)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	t.Parallel()
	q, err := queue.Open(context.Background(), "", queuetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := q.Ping(context.Background()); err == nil {
		t.Fatal("Ping after Close should fail")
	}
}

func TestRateLimitErrorMatching(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		queue.RateLimitError{RetryIn: time.Second},
		&queue.RateLimitError{RetryIn: time.Second},
		errors.Join(errors.New("sms"), queue.RateLimitError{RetryIn: time.Second}),
	} {
		var rl queue.RateLimitError
		var prl *queue.RateLimitError
		if !errors.As(err, &rl) && !errors.As(err, &prl) {
			t.Errorf("%v: not found by errors.As", err)
		}
	}
	if got := (queue.RateLimitError{RetryIn: 1500 * time.Millisecond}).Error(); got != "rate limited: retry in 1.5s" {
		t.Errorf("Error() = %q", got)
	}
}
