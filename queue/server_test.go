package queue_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

const typeTest = "test:work"

// fastServer is a server that notices new and retried tasks quickly.
func fastServer(t *testing.T, q *queue.Queue, mux *asynq.ServeMux) *asynq.Server {
	t.Helper()
	srv := q.NewServer(queue.ServerConfig{
		Concurrency:              2,
		ShutdownTimeout:          5 * time.Second,
		TaskCheckInterval:        20 * time.Millisecond,
		DelayedTaskCheckInterval: 100 * time.Millisecond,
	})
	if err := srv.Start(mux); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func enqueue(t *testing.T, q *queue.Queue, payload string) *asynq.TaskInfo {
	t.Helper()
	info, err := q.Client.Enqueue(asynq.NewTask(typeTest, []byte(payload)), asynq.Queue(queue.QueueDefault), asynq.Retention(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func taskInfo(t *testing.T, q *queue.Queue, id string) *asynq.TaskInfo {
	t.Helper()
	info, err := q.Inspector.GetTaskInfo(queue.QueueDefault, id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestServerProcessesTask(t *testing.T) {
	t.Parallel()
	queuetest.Each(t, func(t *testing.T, q *queue.Queue) {
		t.Parallel()
		got := make(chan string, 1)
		mux := asynq.NewServeMux()
		mux.HandleFunc(typeTest, func(ctx context.Context, task *asynq.Task) error {
			got <- string(task.Payload())
			return nil
		})
		info := enqueue(t, q, "hello")
		fastServer(t, q, mux)
		select {
		case p := <-got:
			if p != "hello" {
				t.Fatalf("payload = %q", p)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("task not processed")
		}
		waitFor(t, "task completed", 5*time.Second, func() bool {
			return taskInfo(t, q, info.ID).State == asynq.TaskStateCompleted
		})
	})
}

func TestServerShutdownFinishesRunningTask(t *testing.T) {
	t.Parallel()
	queuetest.Each(t, func(t *testing.T, q *queue.Queue) {
		t.Parallel()
		started := make(chan struct{})
		var runs, finished atomic.Int32
		mux := asynq.NewServeMux()
		mux.HandleFunc(typeTest, func(ctx context.Context, task *asynq.Task) error {
			if runs.Add(1) == 1 {
				close(started)
			}
			time.Sleep(300 * time.Millisecond) // a send that must not be cut off
			finished.Add(1)
			return nil
		})
		info := enqueue(t, q, "slow")
		srv := fastServer(t, q, mux)
		select {
		case <-started:
		case <-time.After(10 * time.Second):
			t.Fatal("task not started")
		}
		srv.Shutdown() // mid-task
		if finished.Load() != 1 {
			t.Fatal("Shutdown returned before the running task finished")
		}
		ti := taskInfo(t, q, info.ID)
		if ti.State != asynq.TaskStateCompleted || ti.Retried != 0 {
			t.Fatalf("after shutdown: state=%v retried=%d, want completed and not retried", ti.State, ti.Retried)
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("handler ran %d times, want 1", n)
		}
	})
}

func TestServerRateLimitIsNotAFailure(t *testing.T) {
	t.Parallel()
	queuetest.Each(t, func(t *testing.T, q *queue.Queue) {
		t.Parallel()
		var runs atomic.Int32
		retryCounts := make(chan int, 10)
		mux := asynq.NewServeMux()
		mux.HandleFunc(typeTest, func(ctx context.Context, task *asynq.Task) error {
			n, _ := asynq.GetRetryCount(ctx)
			retryCounts <- n
			if runs.Add(1) <= 2 {
				return queue.RateLimitError{RetryIn: time.Millisecond}
			}
			return nil
		})
		info, err := q.Client.Enqueue(asynq.NewTask(typeTest, nil), asynq.MaxRetry(1), asynq.Retention(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		fastServer(t, q, mux)
		// Two rate limits then success, with MaxRetry(1): only possible if
		// rate limits do not use up retries.
		waitFor(t, "task completed after two rate limits", 15*time.Second, func() bool {
			return taskInfo(t, q, info.ID).State == asynq.TaskStateCompleted
		})
		if n := runs.Load(); n != 3 {
			t.Fatalf("handler ran %d times, want 3", n)
		}
		for range 3 {
			if n := <-retryCounts; n != 0 {
				t.Fatalf("handler saw retry count %d, want 0 on every run", n)
			}
		}
		if ti := taskInfo(t, q, info.ID); ti.Retried != 0 {
			t.Fatalf("Retried = %d, want 0", ti.Retried)
		}
		qi, err := q.Inspector.GetQueueInfo(queue.QueueDefault)
		if err != nil {
			t.Fatal(err)
		}
		if qi.FailedTotal != 0 {
			t.Fatalf("queue counts %d failures, want 0", qi.FailedTotal)
		}
	})
}

func TestServerErrorCountsAsFailure(t *testing.T) {
	t.Parallel()
	queuetest.Each(t, func(t *testing.T, q *queue.Queue) {
		t.Parallel()
		mux := asynq.NewServeMux()
		mux.HandleFunc(typeTest, func(ctx context.Context, task *asynq.Task) error {
			return errors.New("provider said no")
		})
		info := enqueue(t, q, "x")
		fastServer(t, q, mux)
		var ti *asynq.TaskInfo
		waitFor(t, "task in retry", 10*time.Second, func() bool {
			ti = taskInfo(t, q, info.ID)
			return ti.State == asynq.TaskStateRetry
		})
		if ti.Retried != 1 || ti.LastErr != "provider said no" {
			t.Fatalf("retried=%d last error=%q", ti.Retried, ti.LastErr)
		}
		if wait := time.Until(ti.NextProcessAt); wait < 10*time.Second {
			t.Fatalf("next attempt in %s, want Asynq's exponential back-off (>= 15s)", wait)
		}
	})
}

// TestSchedulerShutdownLogsNoError starts and stops a scheduler on a
// queue's shared Redis client: a clean stop logs nothing at ERROR (Asynq
// reports it may not close the shared client, which is Queue.Close's job).
func TestSchedulerShutdownLogsNoError(t *testing.T) {
	var buf syncBuffer
	q, err := queue.Open(context.Background(), queuetest.RedisURL(t), slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	s := q.NewScheduler()
	if _, err := s.Register("@every 1m", asynq.NewTask(typeTest, nil)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()
	out := buf.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("a clean scheduler stop logged an error:\n%s", out)
	}
	if !strings.Contains(out, "redis connection is shared") {
		t.Errorf("the shared-client notice is not logged at debug:\n%s", out)
	}
}

// syncBuffer is a bytes.Buffer safe for the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
