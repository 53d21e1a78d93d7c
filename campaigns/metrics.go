package campaigns

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/internal/figures"
)

// sendMetrics count what became of each claimed row, by its channel.
type sendMetrics struct {
	sends *prometheus.CounterVec
}

func newSendMetrics() sendMetrics {
	return sendMetrics{sends: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_sends_total",
		Help: "Campaign deliveries a worker tried, by channel and outcome (sent, failed, fallback, suppressed, retry, rate_limited)."},
		[]string{"channel", "outcome"})}
}

// count counts a batch's outcomes, in row order.
func (m sendMetrics) count(rows []claimed, outs []outcome) {
	for i, o := range outs {
		m.sends.WithLabelValues(string(rows[i].ch), o.label()).Inc()
	}
}

// label is an outcome as the sends counter names it.
func (o outcome) label() string {
	switch {
	case o.rateLimited:
		return "rate_limited"
	case o.retry:
		return "retry"
	case o.status == channels.StatusQueued:
		return "fallback" // to the campaign's next channel
	case o.status == "":
		return "unknown"
	}
	return o.status.String()
}

// SendCounters returns this process's counters of campaign sends by
// channel and outcome, a Prometheus collector.
func (s *Service) SendCounters() prometheus.Collector { return s.metrics.sends }

// Collector returns a Prometheus collector of the campaigns, read from
// the database at each scrape: the running campaigns' recovery figures
// (HealthTotals), campaigns by status and the progress of each campaign
// unfinished or finished in the last day, from its counters (Progress),
// never a count of its deliveries.
func (s *Service) Collector() prometheus.Collector {
	leased := prometheus.NewDesc("handover_campaign_batches_leased", "Batches of running campaigns a live worker holds.", nil, nil)
	expired := prometheus.NewDesc("handover_campaign_batches_expired", "Batches of running campaigns whose worker stopped renewing its lease.", nil, nil)
	unknown := prometheus.NewDesc("handover_campaign_rows_unknown_outcome", "Queued rows under expired leases: their worker may have sent them.", nil, nil)
	suspects := prometheus.NewDesc("handover_campaign_duplicates_suspected_total", "Rows sent again after a takeover found them queued (an upper bound on duplicates).", nil, nil)
	p := progressDescs{
		recipients: prometheus.NewDesc("handover_campaign_recipients", "Recipients of each scheduled, running or paused campaign, or one finished in the last day, by state (queued, sent, failed, skipped, suppressed).", []string{"campaign_id", "state"}, nil),
		campaigns:  prometheus.NewDesc("handover_campaigns", "Campaigns by status.", []string{"status"}, nil),
	}
	return figures.NewCollector("campaign", s.log, func(ctx context.Context, emit figures.Emit) error {
		t, err := s.HealthTotals(ctx)
		if err != nil {
			return err
		}
		emit.Gauge(leased, float64(t.LeasedBatches))
		emit.Gauge(expired, float64(t.ExpiredBatches))
		emit.Gauge(unknown, float64(t.UnknownOutcome))
		emit.Counter(suspects, float64(t.DuplicatesSuspected))
		return s.emitProgress(ctx, emit, p)
	}, leased, expired, unknown, suspects, p.recipients, p.campaigns)
}

type progressDescs struct{ recipients, campaigns *prometheus.Desc }

// emitProgress reports campaigns by status (the campaigns table is small)
// and the progress of the unfinished ones and of those finished in the
// last day.
func (s *Service) emitProgress(ctx context.Context, emit figures.Emit, d progressDescs) error {
	byStatus := map[Status]int{}
	var shown []string
	err := s.db.QueryEach(ctx, func(scan func(...any) error) error {
		var id string
		var status Status
		var recent bool
		if err := scan(&id, &status, &recent); err != nil {
			return err
		}
		byStatus[status]++
		if recent || status == StatusScheduled || status == StatusRunning || status == StatusPaused {
			shown = append(shown, id)
		}
		return nil
	}, `SELECT id, status, finished_at IS NOT NULL AND finished_at >= $1 FROM campaigns`, s.db.Now().Add(-24*time.Hour))
	if err != nil {
		return err
	}
	for status, n := range byStatus {
		emit.Gauge(d.campaigns, float64(n), status.String())
	}
	for _, id := range shown {
		p, err := s.Progress(ctx, id)
		if err != nil {
			return err
		}
		for _, state := range []channels.DeliveryStatus{channels.StatusQueued, channels.StatusSent, channels.StatusFailed, channels.StatusSkipped, channels.StatusSuppressed} {
			emit.Gauge(d.recipients, float64(p[state]), id, state.String())
		}
	}
	return nil
}
