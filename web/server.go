// Package web is Handover's HTTP face: the JSON API under /api/v1, health
// and metrics endpoints, and (in later issues) the dashboard, portal and
// provider hooks. Handlers parse, call one domain method, and respond.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
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
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
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
	importer    *customers.Importer
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
	// recordEvent stores portal events (survey feedback) in the inbox.
	recordEvent channels.RecordFunc
	// sendCode sends the portal's confirmation codes.
	sendCode customers.SendFunc
	wechat   *wechat.Channel
	portal   *portal
	log      *slog.Logger
	metrics  *metrics
	dash     *dashboard

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
	Importer  *customers.Importer
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
	// phone or email, my data): customers.ChannelSender over the channels
	// that are on (the devbox in embedded mode and tests). Required.
	SendCode customers.SendFunc
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
		importer: d.Importer, templates: d.Templates, hooks: d.Hooks, devbox: d.Devbox, campaigns: d.Campaigns, governance: d.Governance, incidents: d.Incidents, assessments: d.Assessments, archive: d.Archive,
		destroy: d.Destroyer, exporter: d.Exporter,
		links: d.Links, recordEvent: d.RecordEvent, sendCode: d.SendCode, wechat: d.WeChat, tickets: d.Tickets, log: d.Log, metrics: newMetrics()}
	s.sms = d.SMS
	var rdb redis.UniversalClient
	if d.Queue != nil {
		rdb = d.Queue.Redis
	}
	s.portal = newPortal(rdb, s.metrics.registry)
	s.metrics.registerProduct(d)
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = ipExtractor(d.Config.TrustedProxies)

	e.Use(middleware.RequestID())
	e.Use(accessLog(s.log))
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

	e.Use(s.checkText)
	s.routes()

	s.http = &http.Server{
		Addr: d.Config.HTTPAddr, Handler: e,
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
	}
	return s
}

// routes registers every route; a test compares them with openapi.yaml.
func (s *Server) routes() {
	s.registerHealthRoutes()
	s.registerHookRoutes(s.hooks)
	api := s.echo.Group("/api/v1")
	api.GET("/openapi.yaml", s.handleOpenAPI)
	authed := api.Group("", s.requireToken)
	authed.GET("/me", s.handleMe)
	s.registerTokenRoutes(authed)
	s.registerCustomerRoutes(authed)
	s.registerImportRoutes(authed)
	s.registerTransferRoutes(authed)
	s.registerExportRoutes(authed)
	s.registerDestructionRoutes(authed)
	s.registerDevboxRoutes(authed)
	s.registerTemplateRoutes(authed)
	s.registerCampaignRoutes(authed)
	s.registerGovernanceRoutes(authed)
	s.registerReviewRoutes(authed)
	s.registerTransparencyRoutes(authed)
	s.registerIncidentRoutes(authed)
	s.registerAssessmentRoutes(authed)
	s.registerArchiveRoutes(authed)
	s.registerCorrectionRoutes(authed)
	s.registerWeChatBindRoutes(authed)
	s.registerRightsRoutes(authed)
	s.registerLinkRoutes(authed)
	s.registerCampaignPortalRoutes(authed)
	s.registerPortalRoutes()
	s.registerTicketRoutes(authed)
	s.registerTicketCallRoutes(authed)
	s.registerDashboardRoutes()
}

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

// ipExtractor trusts X-Forwarded-For only from the configured proxies, so a
// client cannot choose its own address past the throttles, the rate limiter
// and consent evidence. Echo would otherwise also trust every loopback,
// link-local and private peer; those are turned off, so only the listed
// ranges count.
func ipExtractor(trusted []string) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(strings.TrimSpace(cidr))
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}
