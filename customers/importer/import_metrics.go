package importer

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/internal/figures"
)

// Collector returns a Prometheus collector of the imports: rows by
// outcome (created, updated, rejected) over every import kept, and
// imports by status. It sums the imports' own counters, one row per
// import, so a scrape stays cheap however many customers came in.
func (im *Importer) Collector() prometheus.Collector {
	rowsDesc := prometheus.NewDesc("handover_import_rows_total", "Rows of customer imports by outcome (created, updated, rejected).", []string{"outcome"}, nil)
	imports := prometheus.NewDesc("handover_imports", "Customer imports by status (pending, running, completed, failed).", []string{"status"}, nil)
	return figures.NewCollector("import", im.log, func(ctx context.Context, emit figures.Emit) error {
		var sums [3]int64 // created, updated, rejected
		err := im.db.QueryEach(ctx, func(scan func(...any) error) error {
			var status string
			var n int64
			var row [3]int64
			if err := scan(&status, &n, &row[0], &row[1], &row[2]); err != nil {
				return err
			}
			for i := range sums {
				sums[i] += row[i]
			}
			emit.Gauge(imports, float64(n), status)
			return nil
		}, `SELECT status, COUNT(*), CAST(COALESCE(SUM(created_count), 0) AS BIGINT),
			CAST(COALESCE(SUM(updated_count), 0) AS BIGINT), CAST(COALESCE(SUM(rejected_count), 0) AS BIGINT) FROM imports GROUP BY status`)
		if err != nil {
			return err
		}
		for i, outcome := range []string{"created", "updated", "rejected"} {
			emit.Counter(rowsDesc, float64(sums[i]), outcome)
		}
		return nil
	}, rowsDesc, imports)
}
