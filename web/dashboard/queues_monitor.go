package dashboard

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"

	"github.com/hibiken/asynqmon"
	"github.com/labstack/echo/v4"
	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

// queuesRoot is where the Asynq monitor is mounted.
const queuesRoot = "/admin/queues"

// queuesMonitor is asynqmon twice over the queue's shared Redis client:
// read-write for members who may manage queues, read-only (asynqmon
// refuses every API call but GET) for those who may only look. Each has
// the CSP its page needs.
type queuesMonitor struct {
	manage, view monitorUI
}

type monitorUI struct {
	handler http.Handler
	csp     string
}

// sharedRedis hands asynqmon the queue's own client, so the monitor works
// on the embedded Redis, a single server and Sentinel alike, and opens no
// pool of its own. asynqmon is never closed: the client is the queue's.
type sharedRedis struct{ client redis.UniversalClient }

// MakeRedisClient implements asynq.RedisConnOpt.
func (r sharedRedis) MakeRedisClient() any { return r.client }

func newQueuesMonitor(rdb redis.UniversalClient) *queuesMonitor {
	ui := func(readOnly bool) monitorUI {
		h := asynqmon.New(asynqmon.Options{RootPath: queuesRoot, RedisConnOpt: sharedRedis{rdb}, ReadOnly: readOnly})
		return monitorUI{handler: h, csp: monitorCSP(h)}
	}
	return &queuesMonitor{manage: ui(false), view: ui(true)}
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// monitorCSP is the dashboard's CSP widened only as far as asynqmon's page
// needs: its two inline scripts by hash (the first carries the root path
// and read-only flag, so it is hashed as served), inline styles (Material
// UI injects them) and data: images and fonts. Its Google Fonts links stay
// blocked: the page falls back to system fonts and loads nothing from
// elsewhere.
func monitorCSP(h http.Handler) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, queuesRoot, nil))
	scripts := []string{"'self'"}
	for _, m := range inlineScript.FindAllStringSubmatch(rec.Body.String(), -1) {
		sum := sha256.Sum256([]byte(m[1]))
		scripts = append(scripts, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	return "default-src 'none'; script-src " + strings.Join(scripts, " ") + "; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; manifest-src 'self'; " +
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
}

// registerQueueMonitor mounts the monitor behind the dashboard sign-in:
// queues.view to look, queues.manage to change anything.
func (s *Dashboard) registerQueueMonitor() {
	if s.queue == nil {
		return
	}
	mon := newQueuesMonitor(s.queue.Redis)
	mw := []echo.MiddlewareFunc{s.dashboardPage, s.requireSession, sameOrigin, s.can(staff.ViewQueues)}
	h := s.handleQueueMonitor(mon)
	methods := []string{http.MethodGet, http.MethodPost, http.MethodDelete} // all asynqmon uses
	s.echo.Match(methods, queuesRoot, h, mw...)
	s.echo.Match(methods, queuesRoot+"/*", h, mw...)
}

// handleQueueMonitor serves the monitor the member's role allows.
func (s *Dashboard) handleQueueMonitor(mon *queuesMonitor) echo.HandlerFunc {
	return func(c echo.Context) error {
		ui := mon.view
		if member(c).Role.Can(staff.ManageQueues) {
			ui = mon.manage
		}
		c.Response().Header().Set(echo.HeaderContentSecurityPolicy, ui.csp)
		ui.handler.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// sameOrigin stands in for the CSRF token on asynqmon's API, whose
// script cannot send one: an unsafe request must say (Origin, or
// Sec-Fetch-Site from browsers that send it) that it came from this site.
// The session cookie is SameSite=Lax besides.
func sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
			return handover.Errorf(handover.EFORBIDDEN, "This request did not come from Handover.")
		}
		o, err := url.Parse(r.Header.Get(echo.HeaderOrigin))
		if err != nil || o.Host == "" || o.Host != r.Host {
			return handover.Errorf(handover.EFORBIDDEN, "This request did not come from Handover.")
		}
		return next(c)
	}
}
