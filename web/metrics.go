package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/web/kit"
)

// metrics is the server's own Prometheus registries, so that several
// servers in one test process never collide: registry for HTTP and the
// process, product for the product's figures (queues, sends, tickets…),
// which read the database and Redis and so are gathered at most once per
// HANDOVER_METRICS_CACHE.
type metrics struct {
	registry *prometheus.Registry
	product  *prometheus.Registry
	cache    *cachedGatherer // product's; its ttl is HANDOVER_METRICS_CACHE
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		product:  prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "handover_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "handover_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
	}
	m.cache = &cachedGatherer{g: m.product}
	m.registry.MustRegister(m.requests, m.duration,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		route := kit.ServeRoute(c, next)
		m.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// handleMetrics answers /metrics only to a scraper that sends
// HANDOVER_METRICS_TOKEN as a bearer token: per-route counts of reveals,
// exports and imports are not for everyone. Without the variable /metrics
// is off (404).
func (s *Server) handleMetrics() echo.HandlerFunc {
	h := echo.WrapHandler(s.metrics.handler())
	return func(c echo.Context) error {
		want := []byte(s.cfg.MetricsToken)
		if len(want) == 0 {
			return echo.ErrNotFound
		}
		scheme, got, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), want) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return handover.Errorf(handover.EUNAUTHORIZED, "Send HANDOVER_METRICS_TOKEN as 'Authorization: Bearer …'.")
		}
		return h(c)
	}
}

// handler serves both registries, the product's through its cache.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(prometheus.Gatherers{m.registry, m.cache},
		promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// cachedGatherer answers with the last gathering for ttl, so that several
// scrapers (or a dashboard refreshing fast) cost the database one read.
type cachedGatherer struct {
	g   prometheus.Gatherer
	ttl time.Duration

	mu       sync.Mutex
	at       time.Time
	families []*dto.MetricFamily
	err      error
}

// Gather implements prometheus.Gatherer.
func (c *cachedGatherer) Gather() ([]*dto.MetricFamily, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.families == nil || time.Since(c.at) >= c.ttl {
		c.families, c.err = c.g.Gather()
		c.at = time.Now()
	}
	return c.families, c.err
}

// registerProduct registers the product's figures: d.Metrics and the
// collectors of the deps that have them.
func (m *metrics) registerProduct(d Deps) {
	m.cache.ttl = d.Config.MetricsCache
	m.product.MustRegister(d.Metrics...)
	if d.Campaigns != nil {
		m.product.MustRegister(d.Campaigns.Collector(), d.Campaigns.SendCounters())
	}
	if d.Queue != nil {
		m.product.MustRegister(d.Queue.Collector())
	}
	if d.Tickets != nil {
		m.product.MustRegister(d.Tickets.Collector())
	}
	if d.Importer != nil {
		m.product.MustRegister(d.Importer.Collector())
	}
}
