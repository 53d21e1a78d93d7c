package web_test

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestProductMetricsOnBothDatabases: the figures read from the database
// at a scrape read on SQLite and PostgreSQL alike: an import's rows, an
// open ticket, the inbound backlog, the campaigns and queues, none left
// out for an error ("metrics not read" in the log).
func TestProductMetricsOnBothDatabases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db, queuetest.Open(t), "HANDOVER_METRICS_TOKEN="+testMetricsToken, "HANDOVER_METRICS_CACHE=0s")
		a.inbound(channels.SMS, a.oneCustomer(), "13812345678", "地址变更")
		body := a.metricsText()
		for _, want := range []string{`handover_import_rows_total{outcome="created"} 1`, `handover_imports{status="completed"} 1`,
			`handover_tickets_sla_breached{category=`, "handover_inbound_unprocessed 0", "handover_inbound_oldest_unprocessed_seconds 0",
			"handover_campaign_batches_leased 0"} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
		if !strings.Contains(body, `handover_tickets_open{category=`) {
			t.Errorf("metrics lack the open ticket")
		}
		if logs := a.logs.String(); strings.Contains(logs, "metrics not read") {
			t.Fatalf("a figure was not read:\n%s", logs)
		}
	})
}
