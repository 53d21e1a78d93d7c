package queue_test

import (
	"os"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
)

// BenchmarkEnqueue measures Client.Enqueue (one Redis round trip each) on
// the embedded Redis and, when TEST_REDIS_URL is set, on a real one; both
// from one goroutine and from GOMAXPROCS goroutines.
func BenchmarkEnqueue(b *testing.B) {
	backends := []struct {
		name string
		open func(testing.TB) *queue.Queue
	}{{"embedded", queuetest.Embedded}}
	if os.Getenv("TEST_REDIS_URL") != "" {
		backends = append(backends, struct {
			name string
			open func(testing.TB) *queue.Queue
		}{"redis", queuetest.Redis})
	}
	payload := make([]byte, 200) // about one batch reference
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			q := be.open(b)
			task := asynq.NewTask("bench:noop", payload)
			for b.Loop() {
				if _, err := q.Client.Enqueue(task); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
		b.Run(be.name+"-parallel", func(b *testing.B) {
			q := be.open(b)
			task := asynq.NewTask("bench:noop", payload)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := q.Client.Enqueue(task); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
		})
	}
}
