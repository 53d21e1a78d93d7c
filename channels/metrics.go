package channels

import (
	"context"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/internal/figures"
)

// inboxMetrics are the Inbox's counters of the events it processed.
type inboxMetrics struct {
	events   *prometheus.CounterVec
	receipts *prometheus.CounterVec
}

func newInboxMetrics() inboxMetrics {
	return inboxMetrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_inbound_events_total",
			Help: "Inbound events processed, by channel, kind and whether a customer was matched."}, []string{"channel", "kind", "outcome"}),
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_receipts_total",
			Help: "Delivery receipts and bounces processed, by channel and the status they report."}, []string{"channel", "status"}),
	}
}

// count counts one processed event.
func (m inboxMetrics) count(ev *InboundEvent, outcome string) {
	m.events.WithLabelValues(string(ev.Channel), string(ev.Kind), outcome).Inc()
	m.receipt(ev)
}

// receipt counts ev by the status it reports, when it is a receipt.
func (m inboxMetrics) receipt(ev *InboundEvent) {
	if status := ev.ReceiptStatus(); status != "" {
		m.receipts.WithLabelValues(string(ev.Channel), status.String()).Inc()
	}
}

// CountReceipt counts a receipt applied without passing through the Inbox
// (an SMS receipt the poller fetched), so handover_receipts_total holds
// every receipt, pushed or polled.
func (in *Inbox) CountReceipt(ev InboundEvent) { in.metrics.receipt(&ev) }

// Counters returns this process's counters of the events the Inbox
// processed (by channel, kind and match outcome) and of the receipts
// among them, a Prometheus collector.
func (in *Inbox) Counters() prometheus.Collector { return in.metrics }

// Describe implements prometheus.Collector.
func (m inboxMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.events.Describe(ch)
	m.receipts.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m inboxMetrics) Collect(ch chan<- prometheus.Metric) {
	m.events.Collect(ch)
	m.receipts.Collect(ch)
}

// Collector returns a Prometheus collector of the Inbox's backlog, read
// from the database at each scrape through the index on (state,
// received_at): the events not processed yet and the oldest one's age.
func (in *Inbox) Collector() prometheus.Collector {
	backlog := prometheus.NewDesc("handover_inbound_unprocessed", "Inbound events stored but not processed yet.", nil, nil)
	age := prometheus.NewDesc("handover_inbound_oldest_unprocessed_seconds", "Age of the oldest inbound event not processed yet (0 when none).", nil, nil)
	return figures.NewCollector("inbound", in.log, func(ctx context.Context, emit figures.Emit) error {
		var n int64
		oldest := 0.0
		err := in.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE state = 'received'`).Scan(&n)
		if err == nil {
			err = in.db.QueryEach(ctx, func(scan func(...any) error) error {
				var t time.Time
				err := scan(&t)
				oldest = max(0, in.db.Now().Sub(t).Seconds())
				return err
			}, `SELECT received_at FROM inbound_events WHERE state = 'received' ORDER BY received_at LIMIT 1`)
		}
		if err != nil {
			return err
		}
		emit.Gauge(backlog, float64(n))
		emit.Gauge(age, oldest)
		return nil
	}, backlog, age)
}

// RateMetrics count the waits a Limiter imposes, by the limit's kind (the
// channel, or "campaign" for a campaign's own pace).
type RateMetrics struct {
	waits, waited, deferred *prometheus.CounterVec
}

// NewRateMetrics returns the counters a Limiter fills when its Metrics
// field is set.
func NewRateMetrics() *RateMetrics {
	limit := []string{"limit"}
	return &RateMetrics{
		waits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_ratelimit_waits_total",
			Help: "Sends that slept in the worker for their slot under a rate, by limit."}, limit),
		waited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_ratelimit_wait_seconds_total",
			Help: "Time spent sleeping for a slot under a rate, by limit."}, limit),
		deferred: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_ratelimit_deferred_total",
			Help: "Bookings refused because the rate was booked further ahead than the caller could wait (the task waits in the queue)."}, limit),
	}
}

// Describe implements prometheus.Collector.
func (m *RateMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.waits.Describe(ch)
	m.waited.Describe(ch)
	m.deferred.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *RateMetrics) Collect(ch chan<- prometheus.Metric) {
	m.waits.Collect(ch)
	m.waited.Collect(ch)
	m.deferred.Collect(ch)
}

// Init starts the counters of each limit at 0, so that rates and rules
// see the series before the first wait.
func (m *RateMetrics) Init(limits ...string) {
	for _, l := range limits {
		m.waits.WithLabelValues(l)
		m.waited.WithLabelValues(l)
		m.deferred.WithLabelValues(l)
	}
}

// observe counts one booking under key: slept wait, or deferred.
func (m *RateMetrics) observe(key string, booked int, wait time.Duration) {
	if m == nil {
		return
	}
	limit, _, _ := strings.Cut(key, ":")
	switch {
	case booked == 0:
		m.deferred.WithLabelValues(limit).Inc()
	case wait > 0:
		m.waits.WithLabelValues(limit).Inc()
		m.waited.WithLabelValues(limit).Add(wait.Seconds())
	}
}
