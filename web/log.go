package web

import (
	"time"

	"github.com/labstack/echo/v4"
)

// accessLog logs each request by its route pattern, never its raw path or
// query string: ids, tokens and search terms (phones, emails) stay out of
// the log.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "(no route)"
		}
		s.log.Info("http",
			"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
			"method", c.Request().Method, "route", route,
			"status", c.Response().Status, "bytes", c.Response().Size,
			"ms", float64(time.Since(start).Microseconds())/1000, "ip", c.RealIP())
		return nil
	}
}
