// Package queuetest gives each test a Redis of its own: the embedded
// miniredis always, and a leased database of the machine's Redis when
// TEST_REDIS_URL is set. Tests in different packages run in parallel against
// one Redis; a lease on a database number (1..15) keeps them apart, so no
// test ever flushes data another test is using.
package queuetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/queue"
)

const (
	leaseKeyPrefix = "handover-test-db-lease:"
	leaseTTL       = 10 * time.Minute
	leaseRenew     = 2 * time.Minute
	leaseWait      = 5 * time.Minute // give up when no database frees up
	firstDB        = 1
	lastDB         = 15
)

// releaseLease deletes the lease only if it is still ours.
var releaseLease = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// renewLease extends the lease only if it is still ours.
var renewLease = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("EXPIRE", KEYS[1], ARGV[2]) end
return 0`)

// Each runs fn as a subtest on the embedded Redis and, when TEST_REDIS_URL
// is set, on a leased database of the real Redis.
func Each(t *testing.T, fn func(t *testing.T, q *queue.Queue)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) { fn(t, Embedded(t)) })
	if os.Getenv("TEST_REDIS_URL") != "" {
		t.Run("redis", func(t *testing.T) { fn(t, Redis(t)) })
	}
}

// Open returns a Queue on a leased database of the real Redis when
// TEST_REDIS_URL is set, else on the embedded Redis. It is closed when the
// test ends.
func Open(t testing.TB) *queue.Queue {
	t.Helper()
	if os.Getenv("TEST_REDIS_URL") != "" {
		return Redis(t)
	}
	return Embedded(t)
}

// Embedded returns a Queue on a fresh embedded miniredis.
func Embedded(t testing.TB) *queue.Queue {
	t.Helper()
	return open(t, "")
}

// Redis returns a Queue on a leased, empty database of TEST_REDIS_URL's
// Redis. It skips the test when the variable is unset.
func Redis(t testing.TB) *queue.Queue {
	t.Helper()
	return open(t, RedisURL(t))
}

func open(t testing.TB, redisURL string) *queue.Queue {
	t.Helper()
	q, err := queue.Open(context.Background(), redisURL, Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// RedisURL leases a database number 1..15 on TEST_REDIS_URL's Redis for the
// rest of the test, empties that database, and returns TEST_REDIS_URL with
// the database number in its path. Leases are keys on database 0
// (handover-test-db-lease:N, set NX with a TTL renewed while the test runs);
// when all fifteen are taken it waits. The test is skipped when
// TEST_REDIS_URL is unset.
func RedisURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		t.Skip("TEST_REDIS_URL not set")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
		t.Fatal("queuetest: TEST_REDIS_URL must be a redis:// or rediss:// URL")
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("queuetest: TEST_REDIS_URL: %v", err)
	}
	opt.DB = 0
	ctx := context.Background()
	leases := redis.NewClient(opt)

	token := newToken() + " " + t.Name()
	db, key := 0, ""
	for deadline := time.Now().Add(leaseWait); db == 0; {
		for n := firstDB; n <= lastDB; n++ {
			k := leaseKeyPrefix + strconv.Itoa(n)
			ok, err := leases.SetNX(ctx, k, token, leaseTTL).Result()
			if err != nil {
				leases.Close()
				t.Fatalf("queuetest: lease a Redis database: %v", err)
			}
			if ok {
				db, key = n, k
				break
			}
		}
		if db == 0 {
			if time.Now().After(deadline) {
				leases.Close()
				t.Fatalf("queuetest: all Redis databases %d..%d stayed leased for %s", firstDB, lastDB, leaseWait)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	dbOpt := *opt
	dbOpt.DB = db
	data := redis.NewClient(&dbOpt)
	if err := data.FlushDB(ctx).Err(); err != nil {
		data.Close()
		releaseLease.Run(ctx, leases, []string{key}, token)
		leases.Close()
		t.Fatalf("queuetest: empty Redis database %d: %v", db, err)
	}

	stop, renewed := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(renewed)
		tick := time.NewTicker(leaseRenew)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				renewLease.Run(ctx, leases, []string{key}, token, int(leaseTTL/time.Second))
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-renewed
		data.FlushDB(ctx) // leave no test data behind in Redis's memory
		data.Close()
		releaseLease.Run(ctx, leases, []string{key}, token)
		leases.Close()
	})

	u.Path = "/" + strconv.Itoa(db)
	q := u.Query()
	q.Del("db")
	u.RawQuery = q.Encode()
	return u.String()
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Logger returns a logger writing to t's log (warnings and up for a
// benchmark, info and up otherwise). Lines logged after the test
// ends (by a goroutine still shutting down) are dropped instead of panicking.
func Logger(t testing.TB) *slog.Logger {
	w := &testWriter{t: t}
	t.Cleanup(w.stop)
	level := slog.LevelInfo
	if _, ok := t.(*testing.B); ok {
		level = slog.LevelWarn // a benchmark prints its log even when it passes
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type testWriter struct {
	mu   sync.Mutex
	t    testing.TB
	done bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(string(bytes.TrimRight(p, "\n")))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
}
