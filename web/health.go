package web

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

func (s *Server) registerHealthRoutes() {
	s.echo.GET("/healthz", s.handleHealthz)
	s.echo.GET("/readyz", s.handleReadyz)
	s.echo.GET("/metrics", s.handleMetrics())
}

// handleHealthz answers while the process is up.
func (s *Server) handleHealthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// handleReadyz answers 200 only when the database and Redis both answer.
func (s *Server) handleReadyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "redis": "ok"}
	status := http.StatusOK
	if err := s.db.PingContext(ctx); err != nil {
		checks["database"], status = "unreachable", http.StatusServiceUnavailable
	}
	if err := s.queue.Ping(ctx); err != nil {
		checks["redis"], status = "unreachable", http.StatusServiceUnavailable
	}
	return c.JSON(status, map[string]any{"status": map[bool]string{true: "ready", false: "not ready"}[status == http.StatusOK], "checks": checks})
}
