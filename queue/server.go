package queue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/hibiken/asynq"
)

// Queue names every process knows. Channel packages add queues of their own
// to ServerConfig.Queues.
const (
	QueueCritical = "critical"
	QueueDefault  = "default"
	QueueLow      = "low"
)

// Server defaults used when the ServerConfig field is zero.
const (
	DefaultConcurrency     = 10
	DefaultShutdownTimeout = 30 * time.Second
)

// DefaultQueues returns a fresh map of the standard queues and their
// weights: a worker picks from "critical" six times as often as from "low".
func DefaultQueues() map[string]int {
	return map[string]int{QueueCritical: 6, QueueDefault: 3, QueueLow: 1}
}

// ServerConfig tunes a worker server. The zero value is usable.
type ServerConfig struct {
	// Concurrency is how many tasks run at once; 0 means DefaultConcurrency.
	Concurrency int
	// Queues maps queue names to weights; nil means DefaultQueues().
	Queues map[string]int
	// StrictPriority empties higher-weight queues before lower ones.
	StrictPriority bool
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// handing them back to the queue; 0 means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// TaskCheckInterval is how long an idle worker waits before looking at
	// empty queues again; 0 means Asynq's default (1 s).
	TaskCheckInterval time.Duration
	// DelayedTaskCheckInterval is how often scheduled and retry tasks are
	// moved to pending; 0 means Asynq's default (5 s).
	DelayedTaskCheckInterval time.Duration
	// BaseContext returns the context handlers' contexts derive from; nil
	// means context.Background.
	BaseContext func() context.Context
}

// NewServer returns an Asynq server on q's Redis client. Start it with
// Start(mux) or Run(mux); Shutdown lets running tasks finish for up to
// ShutdownTimeout. Failed tasks are logged by type and id, never payload.
// A handler returning RateLimitError is retried after RetryIn without
// counting as a failure.
func (q *Queue) NewServer(cfg ServerConfig) *asynq.Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if len(cfg.Queues) == 0 {
		cfg.Queues = DefaultQueues()
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = DefaultShutdownTimeout
	}
	level := asynq.InfoLevel
	if q.log.Enabled(context.Background(), slog.LevelDebug) {
		level = asynq.DebugLevel
	}
	return asynq.NewServerFromRedisClient(q.Redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   cfg.Queues,
		StrictPriority:           cfg.StrictPriority,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.TaskCheckInterval,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		BaseContext:              cfg.BaseContext,
		IsFailure:                isFailure,
		RetryDelayFunc:           retryDelay,
		ErrorHandler:             asynq.ErrorHandlerFunc(q.logTaskError),
		Logger:                   asynqLogger{q.log},
		LogLevel:                 level,
	})
}

// RateLimitError is returned by a task handler when a provider or a shared
// limiter says "not now". The task is retried after RetryIn (at least one
// second, Asynq's resolution) and the attempt is not counted against the
// task's retry budget. It may be returned as a value or a pointer.
type RateLimitError struct {
	RetryIn time.Duration
}

// Error implements error.
func (e RateLimitError) Error() string {
	return fmt.Sprintf("rate limited: retry in %s", e.RetryIn)
}

// asRateLimitError finds a RateLimitError, value or pointer, in err's chain.
func asRateLimitError(err error) (RateLimitError, bool) {
	var v RateLimitError
	if errors.As(err, &v) {
		return v, true
	}
	var p *RateLimitError
	if errors.As(err, &p) && p != nil {
		return *p, true
	}
	return RateLimitError{}, false
}

// isFailure tells Asynq which errors count as failures (retry count and
// failure statistics): all but rate limits.
func isFailure(err error) bool {
	_, limited := asRateLimitError(err)
	return !limited
}

// retryDelay waits RetryIn after a rate limit, and backs off exponentially
// (Asynq's default) after any other error.
func retryDelay(n int, err error, task *asynq.Task) time.Duration {
	if rl, ok := asRateLimitError(err); ok {
		return max(rl.RetryIn, time.Second)
	}
	return asynq.DefaultRetryDelayFunc(n, err, task)
}

// logTaskError logs a failed attempt by task type and id. Payloads may hold
// personal data and are never logged.
func (q *Queue) logTaskError(ctx context.Context, task *asynq.Task, err error) {
	id, _ := asynq.GetTaskID(ctx)
	queue, _ := asynq.GetQueueName(ctx)
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, _ := asynq.GetMaxRetry(ctx)
	attrs := []any{"task_type", task.Type(), "task_id", id, "queue", queue, "retried", retried, "max_retry", maxRetry}
	if rl, ok := asRateLimitError(err); ok {
		q.log.Info("queue: task rate limited", append(attrs, "retry_in", rl.RetryIn)...)
		return
	}
	q.log.Warn("queue: task failed", append(attrs, "err", err)...)
}

// asynqLogger sends Asynq's own log lines to slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug("asynq: " + fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info("asynq: " + fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn("asynq: " + fmt.Sprint(args...)) }

// Error logs at error level, but a task Asynq could not remove from its
// active list at warning: that happens after Redis lost the task (a flush,
// a restart without persistence), and the reconciler re-enqueues whatever
// the database says is still to do, so there is nothing for an operator to
// act on.
func (l asynqLogger) Error(args ...any) {
	msg := fmt.Sprint(args...)
	if strings.HasPrefix(msg, taskRemoveFailed) {
		l.log.Warn("asynq: " + msg)
		return
	}
	l.log.Error("asynq: " + msg)
}

// taskRemoveFailed begins the error Asynq v0.26 logs when it cannot remove
// a finished task from the active list (its syncer's last try at shutdown).
const taskRemoveFailed = "Could not remove task"

// Fatal logs at error level. Asynq never calls it in v0.26; exiting the
// process is left to the caller.
func (l asynqLogger) Fatal(args ...any) { l.log.Error("asynq: fatal: " + fmt.Sprint(args...)) }

// NewScheduler returns a scheduler of periodic tasks on q's Redis client,
// in UTC, logging through slog. Schedulers have no leader election: every
// process that runs one enqueues each task, so periodic tasks must be
// Unique (or otherwise idempotent).
func (q *Queue) NewScheduler() *asynq.Scheduler {
	return asynq.NewSchedulerFromRedisClient(q.Redis, &asynq.SchedulerOpts{Location: time.UTC, Logger: schedulerLogger{asynqLogger{q.log}}})
}

// sharedCloseRefused is how Asynq v0.26's Scheduler.Shutdown reports that
// it may not close the Redis client it was given, on every clean stop:
// the client is the Queue's, closed by Queue.Close.
const sharedCloseRefused = "Failed to close redis client connection: redis connection is shared"

// schedulerLogger is asynqLogger without the ERROR Asynq logs on every
// clean scheduler shutdown (sharedCloseRefused), which it logs at debug.
type schedulerLogger struct{ asynqLogger }

func (l schedulerLogger) Error(args ...any) {
	if msg := fmt.Sprint(args...); strings.HasPrefix(msg, sharedCloseRefused) {
		l.log.Debug("asynq: " + msg)
		return
	}
	l.asynqLogger.Error(args...)
}
