package queue

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/internal/figures"
)

// Collector returns a Prometheus collector of the task queues as the
// Inspector reads them from Redis at each scrape (a few small commands
// per queue, no scan): tasks per queue and state, the age of each queue's
// oldest pending task, whether it is paused, and the task runs processed
// and failed since Redis began. A queue Redis cannot answer for is left
// out.
func (q *Queue) Collector() prometheus.Collector {
	queue := []string{"queue"}
	tasks := prometheus.NewDesc("handover_queue_tasks", "Tasks in each queue by state (pending, active, scheduled, retry, archived).", []string{"queue", "state"}, nil)
	latency := prometheus.NewDesc("handover_queue_latency_seconds", "Age of the queue's oldest pending task.", queue, nil)
	paused := prometheus.NewDesc("handover_queue_paused", "1 while the queue is paused.", queue, nil)
	processed := prometheus.NewDesc("handover_queue_processed_total", "Task runs the queue's workers finished (succeeded or failed), as Redis counts them.", queue, nil)
	failed := prometheus.NewDesc("handover_queue_failed_total", "Task runs that failed, as Redis counts them.", queue, nil)
	return figures.NewCollector("queue", q.log, func(ctx context.Context, emit figures.Emit) error {
		names, err := q.Inspector.Queues()
		if err != nil {
			return err
		}
		for _, name := range names {
			info, err := q.Inspector.GetQueueInfo(name)
			if err != nil {
				q.log.Warn("queue metrics not read", "queue", name, "err", err)
				continue
			}
			for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
				"retry": info.Retry, "archived": info.Archived} {
				emit.Gauge(tasks, float64(n), name, state)
			}
			emit.Gauge(latency, info.Latency.Seconds(), name)
			emit.Gauge(paused, map[bool]float64{true: 1}[info.Paused], name)
			emit.Counter(processed, float64(info.ProcessedTotal), name)
			emit.Counter(failed, float64(info.FailedTotal), name)
		}
		return nil
	}, tasks, latency, paused, processed, failed)
}
