package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
)

// Hooks are the provider endpoints of the channels that are on; a nil one
// answers 404. Each checks its own signature or secret and body size,
// stores what it receives, and answers the provider at once.
type Hooks struct {
	WeChat    http.Handler // GET (URL verification) and POST /hooks/wechat
	SMSReport http.Handler // POST /hooks/aliyun/sms/report
	SMSUp     http.Handler // POST /hooks/aliyun/sms/up
}

func (s *Server) registerHookRoutes(h Hooks) {
	s.echo.GET("/hooks/wechat", hook(h.WeChat, "WeChat"))
	s.echo.POST("/hooks/wechat", hook(h.WeChat, "WeChat"))
	s.echo.POST("/hooks/aliyun/sms/report", hook(h.SMSReport, "Aliyun SMS"))
	s.echo.POST("/hooks/aliyun/sms/up", hook(h.SMSUp, "Aliyun SMS"))
}

func hook(h http.Handler, channel string) echo.HandlerFunc {
	if h == nil {
		return func(c echo.Context) error {
			return handover.Errorf(handover.ENOTFOUND, "The %s channel is not configured on this server.", channel)
		}
	}
	return echo.WrapHandler(h)
}

// isHook reports whether a route is a provider endpoint: providers push
// from few addresses in bursts and authenticate by signature, so the
// per-client rate limit does not apply.
func isHook(c echo.Context) bool {
	p := c.Path()
	return strings.HasPrefix(p, "/hooks/")
}
