package web

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/queue"
)

// NewWorkerServer is the HTTP face of a worker process, which serves no
// API: /healthz, /readyz and /metrics (HANDOVER_METRICS_ADDR) with the
// worker's own counters (sends, inbound events, receipts, rate-limit
// waits). The figures read from the database and Redis come from the api
// processes, so that they are not counted once per process.
func NewWorkerServer(cfg *config.Config, db *database.DB, q *queue.Queue, counters []prometheus.Collector, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, cfg: cfg, db: db, queue: q, log: log, metrics: newMetrics()}
	s.metrics.product.MustRegister(counters...)
	s.metrics.cache.ttl = cfg.MetricsCache
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestID(), accessLog(log), middleware.Recover(), s.metrics.middleware)
	s.registerHealthRoutes()
	s.http = &http.Server{Addr: cfg.MetricsAddr, Handler: e, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	return s
}
