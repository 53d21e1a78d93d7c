package feedback

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/internal/figures"
)

// Collector returns a Prometheus collector of the open tickets (new, open
// or pending) and of those past an SLA deadline, per category: one GROUP
// BY over the open statuses' range of the tickets_status index at each
// scrape, not over every ticket.
func (s *Service) Collector() prometheus.Collector {
	category := []string{"category"}
	open := prometheus.NewDesc("handover_tickets_open", "Tickets new, open or pending, by category.", category, nil)
	breached := prometheus.NewDesc("handover_tickets_sla_breached", "Open tickets past an SLA deadline, by category.", category, nil)
	return figures.NewCollector("ticket", s.log, func(ctx context.Context, emit figures.Emit) error {
		return s.db.QueryEach(ctx, func(scan func(...any) error) error {
			var name string
			var n, late int64
			if err := scan(&name, &n, &late); err != nil {
				return err
			}
			emit.Gauge(open, float64(n), name)
			emit.Gauge(breached, float64(late), name)
			return nil
		}, `SELECT category, COUNT(*), SUM(CASE WHEN breached THEN 1 ELSE 0 END)
			FROM tickets WHERE status IN ('new', 'open', 'pending') GROUP BY category`)
	}, open, breached)
}
