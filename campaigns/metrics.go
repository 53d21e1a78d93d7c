package campaigns

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// healthCollector reports HealthTotals at each scrape.
type healthCollector struct {
	s                                  *Service
	leased, expired, unknown, suspects *prometheus.Desc
}

// Collector returns a Prometheus collector of the running campaigns'
// recovery figures (HealthTotals), read from the database at each scrape.
func (s *Service) Collector() prometheus.Collector {
	return &healthCollector{s: s,
		leased:   prometheus.NewDesc("handover_campaign_batches_leased", "Batches of running campaigns a live worker holds.", nil, nil),
		expired:  prometheus.NewDesc("handover_campaign_batches_expired", "Batches of running campaigns whose worker stopped renewing its lease.", nil, nil),
		unknown:  prometheus.NewDesc("handover_campaign_rows_unknown_outcome", "Queued rows under expired leases: their worker may have sent them.", nil, nil),
		suspects: prometheus.NewDesc("handover_campaign_duplicates_suspected_total", "Rows sent again after a takeover found them queued (an upper bound on duplicates).", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *healthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.leased
	ch <- c.expired
	ch <- c.unknown
	ch <- c.suspects
}

// Collect implements prometheus.Collector; a database error leaves the
// figures out of the scrape.
func (c *healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, err := c.s.HealthTotals(ctx)
	if err != nil {
		c.s.log.Warn("campaign metrics not read", "err", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.leased, prometheus.GaugeValue, float64(t.LeasedBatches))
	ch <- prometheus.MustNewConstMetric(c.expired, prometheus.GaugeValue, float64(t.ExpiredBatches))
	ch <- prometheus.MustNewConstMetric(c.unknown, prometheus.GaugeValue, float64(t.UnknownOutcome))
	ch <- prometheus.MustNewConstMetric(c.suspects, prometheus.CounterValue, float64(t.DuplicatesSuspected))
}
