// Package web is Handover's HTTP server. New builds it: the middleware
// (request ids, access log, security headers, body and time limits, the
// rate limit, the text check), /healthz, /readyz and /metrics, the
// provider hooks, and the areas by audience: the JSON API under /api/v1
// (web/api), the staff dashboard (web/dashboard), the customer portal
// (web/portal) and the public pages (web/public). What the areas share is
// in web/kit. Handlers parse, call one domain method, and respond.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/handoverhq/handover/archive"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/api"
	"github.com/handoverhq/handover/web/dashboard"
	"github.com/handoverhq/handover/web/kit"
	"github.com/handoverhq/handover/web/portal"
	"github.com/handoverhq/handover/web/public"
)

// Server is the HTTP server and everything its handlers call.
type Server struct {
	echo        *echo.Echo
	http        *http.Server
	cfg         *config.Config
	db          *database.DB
	queue       *queue.Queue
	staff       *staff.Store
	customers   *customers.Store
	importer    *importer.Importer
	transfers   *transfers.Store
	rights      *rights.Store
	templates   *templates.Store
	hooks       Hooks
	devbox      *devbox.Channel
	campaigns   *campaigns.Service
	governance  *governance.Service
	incidents   *incidents.Store
	assessments *assessments.Store
	archive     *archive.Store
	destroy     *lifecycle.Destroyer
	exporter    *lifecycle.Exporter
	links       *links.Store
	tickets     *feedback.Service
	portal      *portal.Portal
	log         *slog.Logger
	metrics     *metrics
	auth        *kit.Auth
	cookies     kit.Cookies

	// sms, when configured, lists the Aliyun account's approved templates.
	sms *sms.Channel
}

// Deps are what the server needs; cmd/handover builds them.
type Deps struct {
	Config    *config.Config
	DB        *database.DB
	Queue     *queue.Queue
	Staff     *staff.Store
	Customers *customers.Store
	Importer  *importer.Importer
	// Transfers keeps the transfers (the notice, purposes and data).
	Transfers *transfers.Store
	// Rights keeps the customers' corrections, data access and erasure.
	Rights    *rights.Store
	Templates *templates.Store
	Hooks     Hooks
	// Devbox is the embedded default channel, nil when real providers are on.
	Devbox *devbox.Channel
	// Campaigns plans and sends campaigns.
	Campaigns *campaigns.Service
	// Governance gates personal data behind the confidentiality agreement
	// and training, and keeps reviews and the public report.
	Governance *governance.Service
	// Incidents and Assessments keep Art. 57 incidents and Art. 55 impact
	// assessments.
	Incidents   *incidents.Store
	Assessments *assessments.Store
	// Archive files a transfer's records once it takes effect.
	Archive *archive.Store
	// Destroyer runs retention plans; Exporter writes the buyer's package.
	Destroyer *lifecycle.Destroyer
	Exporter  *lifecycle.Exporter
	// Links issues and resolves the customers' personal links.
	Links *links.Store
	// RecordEvent stores the portal's inbound events (survey free text
	// and low scores) for the feedback queue: (*channels.Inbox).Record.
	RecordEvent channels.RecordFunc
	// WeChat, when configured, binds the openid of a customer who opens
	// their link inside WeChat (OAuth snsapi_base).
	WeChat *wechat.Channel
	// SMS, when configured, lists the Aliyun account's approved SMS
	// templates for staff picking a template code.
	SMS *sms.Channel
	// Tickets runs feedback tickets.
	Tickets *feedback.Service
	// SendCode sends the portal's confirmation codes (corrections of a
	// phone or email, my data): rights.ChannelSender over the channels
	// that are on (the devbox in embedded mode and tests). Required.
	SendCode rights.SendFunc
	// Log defaults to slog.Default().
	Log *slog.Logger
	// Metrics are other parts' collectors served on /metrics (the audit
	// chain monitor's, the inbox's, the rate limiter's) besides those of
	// the deps above; see docs/metrics.md.
	Metrics []prometheus.Collector
}

// New builds the server with its middleware and routes.
func New(d Deps) *Server {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.SendCode == nil {
		panic("web: Deps.SendCode is required: the portal's confirmation codes would go nowhere")
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	s := &Server{echo: e, cfg: d.Config, db: d.DB, queue: d.Queue, staff: d.Staff, customers: d.Customers,
		importer: d.Importer, transfers: d.Transfers, rights: d.Rights, templates: d.Templates, hooks: d.Hooks, devbox: d.Devbox, campaigns: d.Campaigns, governance: d.Governance, incidents: d.Incidents, assessments: d.Assessments, archive: d.Archive,
		destroy: d.Destroyer, exporter: d.Exporter,
		links: d.Links, tickets: d.Tickets, log: d.Log, metrics: newMetrics()}
	s.sms = d.SMS
	s.auth = kit.NewAuth(d.Staff, d.Governance, d.DB)
	s.cookies = kit.Cookies{Secure: d.Config.SecureCookies}
	var rdb redis.UniversalClient
	if d.Queue != nil {
		rdb = d.Queue.Redis
	}
	s.metrics.registerProduct(d)
	s.portal = portal.New(portal.Deps{Config: d.Config, DB: d.DB, Redis: rdb, Metrics: s.metrics.registry, Customers: d.Customers, Rights: d.Rights, Transfers: d.Transfers,
		Links: d.Links, Campaigns: d.Campaigns, Incidents: d.Incidents, Devbox: d.Devbox, RecordEvent: d.RecordEvent,
		SendCode: d.SendCode, WeChat: d.WeChat, Cookies: s.cookies, Log: d.Log})
	e.HTTPErrorHandler = kit.ErrorHandler(s.log, kit.PageErrors{"/l/": s.portal.Error})
	e.IPExtractor = kit.IPExtractor(d.Config.TrustedProxies)

	e.Use(middleware.RequestID())
	e.Use(kit.AccessLog(s.log))
	e.Use(middleware.Recover())
	e.Use(s.metrics.middleware)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection: "0", ContentTypeNosniff: "nosniff", XFrameOptions: "DENY",
		HSTSMaxAge: 31536000, ContentSecurityPolicy: "default-src 'none'; frame-ancestors 'none'",
		ReferrerPolicy: "no-referrer",
	}))
	isUpload := func(c echo.Context) bool { return c.Path() == "/api/v1/customers/import" }
	// A large buyer's package, or a destruction of a large list, takes
	// longer than a request may last.
	isLong := func(c echo.Context) bool {
		return isUpload(c) || c.Path() == "/api/v1/transfers/:id/exports" || c.Path() == "/api/v1/destruction-plans/:id/run"
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: "1M", Skipper: isUpload}))
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: d.Config.RequestTimeout, Skipper: isLong}))
	e.Use(middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Skipper: func(c echo.Context) bool {
			return isHook(c) || c.Path() == "/healthz" || c.Path() == "/readyz" || c.Path() == "/metrics"
		},
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(d.Config.RateLimit), Burst: int(2 * d.Config.RateLimit), ExpiresIn: 3 * time.Minute,
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
		ErrorHandler:        func(c echo.Context, err error) error { return echo.ErrForbidden },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			return echo.NewHTTPError(http.StatusTooManyRequests, "Too many requests; slow down and retry shortly.")
		},
	}))

	e.Use(kit.CheckText(isHook))
	s.routes()

	s.http = &http.Server{
		Addr: d.Config.HTTPAddr, Handler: e,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
	}
	return s
}

// routes registers every route: the server's own, then each area's.
func (s *Server) routes() {
	s.registerHealthRoutes()
	s.registerHookRoutes(s.hooks)
	api.New(api.Deps{Config: s.cfg, Staff: s.staff, Customers: s.customers, Importer: s.importer, Transfers: s.transfers, Rights: s.rights,
		Templates: s.templates, Devbox: s.devbox, Campaigns: s.campaigns, Governance: s.governance, Incidents: s.incidents,
		Assessments: s.assessments, Archive: s.archive, Destroyer: s.destroy, Exporter: s.exporter, Links: s.links, Tickets: s.tickets,
		SMS: s.sms, Log: s.log, Auth: s.auth}).Register(s.echo)
	public.New(s.governance).Register(s.echo)
	s.portal.Register(s.echo)
	dashboard.New(dashboard.Deps{Config: s.cfg, DB: s.db, Queue: s.queue, Staff: s.staff, Customers: s.customers, Transfers: s.transfers, Rights: s.rights,
		Templates: s.templates, Devbox: s.devbox, Campaigns: s.campaigns, Governance: s.governance, Incidents: s.incidents,
		Assessments: s.assessments, Links: s.links, Tickets: s.tickets, Destroyer: s.destroy, Exporter: s.exporter,
		Log: s.log, Auth: s.auth, Cookies: s.cookies}).Register(s.echo)
}

// PageRouteName starts the name of every dashboard page's route, so tests
// walking the router find the pages.
const PageRouteName = dashboard.PageRouteName

// Handler exposes the routes, for tests and embedding.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	err := s.http.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.http.Shutdown(ctx) }
