package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/database"
)

// Monitor verifies the chain at start and then on a schedule, logs each
// outcome (with the head, so the log outside the database keeps a record
// of it) and exports it as metrics to alert on.
type Monitor struct {
	db  *database.DB
	log *slog.Logger
	// ok is 1 while the last verification found the chain whole and
	// keyed, 0 otherwise: alert on handover_audit_chain_ok == 0.
	ok       prometheus.Gauge
	entries  prometheus.Gauge
	lastRun  prometheus.Gauge
	failures *prometheus.CounterVec
	// seen is the longest chain this process verified: a shorter one
	// later means its tail was cut off, which the chain alone cannot show.
	seen int64
}

// NewMonitor returns a Monitor on db; a nil log is slog.Default().
func NewMonitor(db *database.DB, log *slog.Logger) *Monitor {
	if log == nil {
		log = slog.Default()
	}
	return &Monitor{db: db, log: log,
		ok: prometheus.NewGauge(prometheus.GaugeOpts{Name: "handover_audit_chain_ok",
			Help: "1 when the last verification found the audit chain whole and keyed, 0 when it was broken, truncated, unkeyed or could not run."}),
		entries: prometheus.NewGauge(prometheus.GaugeOpts{Name: "handover_audit_chain_entries",
			Help: "Entries checked by the last audit chain verification."}),
		lastRun: prometheus.NewGauge(prometheus.GaugeOpts{Name: "handover_audit_chain_last_verified_timestamp_seconds",
			Help: "When the audit chain was last verified (Unix time)."}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "handover_audit_chain_failures_total",
			Help: "Audit chain verifications that did not pass, by reason: broken, truncated, unkeyed, error."}, []string{"reason"}),
	}
}

// Collectors are the monitor's metrics, for the server's registry. Every
// failure reason starts at 0, so rules see the series before a failure.
func (m *Monitor) Collectors() []prometheus.Collector {
	for _, reason := range []string{"error", "broken", "truncated", "unkeyed"} {
		m.failures.WithLabelValues(reason)
	}
	return []prometheus.Collector{m.ok, m.entries, m.lastRun, m.failures}
}

// Run verifies now and then every interval until ctx ends.
func (m *Monitor) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check verifies the chain once and records the outcome.
func (m *Monitor) Check(ctx context.Context) Report {
	r, err := Verify(ctx, m.db)
	m.lastRun.SetToCurrentTime()
	m.entries.Set(float64(r.Checked))
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return r
		}
		m.fail("error")
		m.log.Error("audit chain: verification could not run", "err", err)
	case !r.OK():
		m.fail("broken")
		m.log.Error("AUDIT CHAIN BROKEN: an entry was edited or deleted", "seq", r.BrokenSeq, "reason", r.Reason, "checked", r.Checked)
	case r.Seq < m.seen:
		m.fail("truncated")
		m.log.Error("AUDIT CHAIN TRUNCATED: it is shorter than when last verified", "seq", r.Seq, "before", m.seen)
	case !r.Keyed && r.Checked > 0:
		m.fail("unkeyed")
		m.log.Warn("audit chain is not keyed yet: anyone able to write to the database could rewrite it; run handover audit rekey", "entries", r.Checked)
	default:
		m.seen = r.Seq
		m.ok.Set(1)
		m.log.Info("audit chain verified", "entries", r.Checked, "seq", r.Seq, "head", r.Head)
	}
	return r
}

func (m *Monitor) fail(reason string) {
	m.ok.Set(0)
	m.failures.WithLabelValues(reason).Inc()
}
