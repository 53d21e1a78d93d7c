package kit

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// AccessLog logs each request by its route pattern, never its raw path or
// query string: ids, tokens and search terms (phones, emails) stay out of
// the log. The client address is logged as a pseudonym (see
// clientPseudonym), never in clear.
func AccessLog(log *slog.Logger) echo.MiddlewareFunc {
	key := make([]byte, 32)
	rand.Read(key)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			route := ServeRoute(c, next)
			log.Info("http",
				"request_id", c.Response().Header().Get(echo.HeaderXRequestID),
				"method", c.Request().Method, "route", route,
				"status", c.Response().Status, "bytes", c.Response().Size,
				"ms", float64(time.Since(start).Microseconds())/1000, "client", clientPseudonym(key, c.RealIP()))
			return nil
		}
	}
}

// clientPseudonym is a client address's keyed hash: 48 bits of
// HMAC-SHA256 under a key drawn when the process starts and never stored.
// Requests from one address share a pseudonym while the process runs (to
// follow one client through the log), but nobody can get the address back,
// not even by hashing all 2³² IPv4 addresses, because the key is gone with
// the process; nor link it to the address sealed in consent evidence.
func clientPseudonym(key []byte, ip string) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(ip))
	return hex.EncodeToString(mac.Sum(nil)[:6])
}

// ServeRoute runs next, answering its error, and returns the request's
// route pattern ("(no route)" when none matched).
func ServeRoute(c echo.Context, next echo.HandlerFunc) string {
	if err := next(c); err != nil {
		c.Error(err)
	}
	if c.Path() == "" {
		return "(no route)"
	}
	return c.Path()
}

// RequestLog is log with the request's id, for what a handler logs:
// every line of a request can be found by its id.
func RequestLog(log *slog.Logger, c echo.Context) *slog.Logger {
	return log.With("request_id", c.Response().Header().Get(echo.HeaderXRequestID))
}
