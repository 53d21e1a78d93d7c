// Package figures turns figures read from the database or Redis when
// Prometheus scrapes into a collector, so each domain package says only
// what it reads (docs/metrics.md).
package figures

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// readTimeout bounds one scrape's read.
const readTimeout = 5 * time.Second

// Emit hands read figures to the scrape.
type Emit struct{ ch chan<- prometheus.Metric }

// Gauge reports a figure that goes up and down.
func (e Emit) Gauge(d *prometheus.Desc, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

// Counter reports a figure that only goes up.
func (e Emit) Counter(d *prometheus.Desc, v float64, labels ...string) {
	e.ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
}

// ReadFunc reads figures and emits them.
type ReadFunc func(ctx context.Context, emit Emit) error

type collector struct {
	what  string
	descs []*prometheus.Desc
	read  ReadFunc
	log   *slog.Logger
}

// NewCollector returns a collector that calls read at each scrape; an
// error is logged ("<what> metrics not read") and leaves out what read
// had not emitted yet. A nil log is slog.Default().
func NewCollector(what string, log *slog.Logger, read ReadFunc, descs ...*prometheus.Desc) prometheus.Collector {
	if log == nil {
		log = slog.Default()
	}
	return &collector{what: what, descs: descs, read: read, log: log}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), readTimeout)
	defer cancel()
	if err := c.read(ctx, Emit{ch}); err != nil {
		c.log.Warn(c.what+" metrics not read", "err", err)
	}
}
