// Package queue wires Handover to Asynq: one go-redis client shared by the
// Asynq client, inspector and servers, pointed at the Redis named by
// HANDOVER_REDIS_URL or, when that is empty, at an in-process miniredis so a
// single binary runs without any other service.
//
// Redis only holds what can be rebuilt (queued tasks, rate-limit buckets,
// cached tokens); the database stays the truth.
package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

const (
	// pingTimeout bounds the connection check in Open when ctx has no deadline.
	pingTimeout = 10 * time.Second
	// embeddedClockTick is how often the embedded Redis expires keys; TTLs
	// are honoured to within this.
	embeddedClockTick = time.Second
)

// Queue is the connection to the task queue. Client enqueues tasks,
// Inspector looks at queues (and backs the /admin/queues monitor), and
// NewServer builds workers. All three share Redis, one go-redis client.
type Queue struct {
	// Redis is the shared client; other packages may use it for rate-limit
	// buckets and caches.
	Redis redis.UniversalClient
	// Client enqueues tasks.
	Client *asynq.Client
	// Inspector reads and manages queues and tasks.
	Inspector *asynq.Inspector
	// Embedded is true when Redis is the in-process miniredis: tasks then
	// live only as long as this process, and only this process can work them.
	Embedded bool

	log       *slog.Logger
	addr      string
	mini      *miniredis.Miniredis
	stopClock chan struct{} // closed by Close to stop runClock
	clockDone chan struct{} // closed when runClock returns
	closeOnce sync.Once
	closeErr  error
}

// Open connects to the Redis named by redisURL (HANDOVER_REDIS_URL) and
// checks it answers. An empty redisURL starts an embedded miniredis on
// 127.0.0.1 with a random port. See parseRedisURL for the URL forms,
// including redis-sentinel:// for a Sentinel-managed master. A nil log
// means slog.Default().
func Open(ctx context.Context, redisURL string, log *slog.Logger) (*Queue, error) {
	if log == nil {
		log = slog.Default()
	}
	q := &Queue{log: log}
	var cfg redisConfig
	if redisURL == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("queue: start embedded Redis: %w", err)
		}
		q.mini, q.Embedded = m, true
		q.stopClock = make(chan struct{})
		q.clockDone = make(chan struct{})
		go q.runClock()
		cfg = redisConfig{single: &redis.Options{Addr: m.Addr()}}
	} else {
		var err error
		if cfg, err = parseRedisURL(redisURL); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
	}
	q.addr = cfg.describe()
	q.Redis = cfg.newClient()
	q.Client = asynq.NewClientFromRedisClient(q.Redis)
	q.Inspector = asynq.NewInspectorFromRedisClient(q.Redis)

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pingTimeout)
		defer cancel()
	}
	if err := q.Ping(ctx); err != nil {
		q.Close()
		return nil, err
	}
	if q.Embedded {
		log.Info("queue: using embedded Redis; tasks are lost when the process stops (set HANDOVER_REDIS_URL for production)", "addr", q.addr)
	} else {
		log.Info("queue: connected to Redis", "addr", q.addr)
	}
	return q, nil
}

// Ping checks that Redis answers; /readyz uses it.
func (q *Queue) Ping(ctx context.Context) error {
	if err := q.Redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("queue: cannot reach Redis at %s (check HANDOVER_REDIS_URL): %w", q.addr, err)
	}
	return nil
}

// Close closes the shared Redis client, and with it Client and Inspector
// (Asynq refuses to close a shared connection itself), then stops the
// embedded Redis if there is one. Shut servers from NewServer down first.
// Close is safe to call more than once.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		err := q.Redis.Close()
		if errors.Is(err, redis.ErrClosed) {
			err = nil
		}
		if q.mini != nil {
			close(q.stopClock)
			<-q.clockDone
			q.mini.Close()
		}
		if err != nil {
			q.closeErr = fmt.Errorf("queue: close: %w", err)
		}
	})
	return q.closeErr
}

// runClock makes the embedded Redis expire keys as time passes, as a real
// one does; miniredis only does so when told. Unique-task locks and
// rate-limit buckets rely on expiry. (miniredis's ClockTTL option would do
// this on every command, but it sorts every key each time: enqueueing
// slowed from thousands of tasks per second to hundreds.)
func (q *Queue) runClock() {
	defer close(q.clockDone)
	tick := time.NewTicker(embeddedClockTick)
	defer tick.Stop()
	last := time.Now()
	for {
		select {
		case <-q.stopClock:
			return
		case now := <-tick.C:
			q.mini.FastForward(now.Sub(last))
			last = now
		}
	}
}
