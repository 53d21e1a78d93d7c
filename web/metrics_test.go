package web_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
)

const testMetricsToken = "metrics-scraper-0123456789"

// metricsText scrapes /metrics as a scraper with HANDOVER_METRICS_TOKEN.
func (a *app) metricsText() string {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testMetricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		a.t.Fatalf("metrics: %d %s", resp.StatusCode, b)
	}
	return string(b)
}

// TestMetricsAreNotPublic: /metrics (per-route counts of reveals, exports
// and imports) answered anyone. Now it answers only the configured bearer
// token, and is off without one.
func TestMetricsAreNotPublic(t *testing.T) {
	off := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	if code := off.getJSON("/metrics", "", nil); code != http.StatusNotFound {
		t.Errorf("/metrics without HANDOVER_METRICS_TOKEN: %d, want 404", code)
	}
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_METRICS_TOKEN="+testMetricsToken)
	for _, token := range []string{"", "wrong-token-0123456789", testMetricsToken + "x"} {
		if code := a.getJSON("/metrics", token, nil); code != http.StatusUnauthorized {
			t.Errorf("/metrics with token %q: %d, want 401", token, code)
		}
	}
	if body := a.metricsText(); len(body) == 0 {
		t.Error("the scraper got nothing")
	}
}
