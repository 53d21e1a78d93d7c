// Package dashboard is the staff dashboard: sign-in and sessions, the
// ticket queue, corrections, customers, campaigns, templates, the devbox
// outbox, staff, the compliance desk and the queue monitor, as server-side
// pages in zh-CN and en with their views and static files. It uses the
// shared kit (web/kit) and is mounted by the server (package web).
package dashboard

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

//go:embed views/*.html
var dashboardViews embed.FS

//go:embed static/dashboard.css static/dashboard.js
var dashboardStatic embed.FS

// Dashboard serves the dashboard's pages with what they call.
type Dashboard struct {
	echo        *echo.Echo
	cfg         *config.Config
	db          *database.DB
	queue       *queue.Queue
	staff       *staff.Store
	customers   *customers.Store
	transfers   *transfers.Store
	rights      *rights.Store
	templates   *templates.Store
	devbox      *devbox.Channel
	campaigns   *campaigns.Service
	governance  *governance.Service
	incidents   *incidents.Store
	assessments *assessments.Store
	links       *links.Store
	tickets     *feedback.Service
	destroy     *lifecycle.Destroyer
	exporter    *lifecycle.Exporter
	log         *slog.Logger
	views       *views
	auth        *kit.Auth
	cookies     kit.Cookies
}

// Deps are what the dashboard uses; the server (package web) passes its
// own.
type Deps struct {
	Config      *config.Config
	DB          *database.DB
	Queue       *queue.Queue // nil: no queue monitor
	Staff       *staff.Store
	Customers   *customers.Store
	Transfers   *transfers.Store
	Rights      *rights.Store
	Templates   *templates.Store
	Devbox      *devbox.Channel // nil when real providers are on
	Campaigns   *campaigns.Service
	Governance  *governance.Service
	Incidents   *incidents.Store
	Assessments *assessments.Store
	Links       *links.Store
	Tickets     *feedback.Service
	// Destroyer runs retention plans; Exporter writes the buyer's package.
	Destroyer *lifecycle.Destroyer
	Exporter  *lifecycle.Exporter
	Log       *slog.Logger
	Auth      *kit.Auth
	Cookies   kit.Cookies
}

// New builds the dashboard and parses its pages.
func New(d Deps) *Dashboard {
	return &Dashboard{cfg: d.Config, db: d.DB, queue: d.Queue, staff: d.Staff, customers: d.Customers, transfers: d.Transfers, rights: d.Rights, templates: d.Templates,
		devbox: d.Devbox, campaigns: d.Campaigns, governance: d.Governance, incidents: d.Incidents, assessments: d.Assessments,
		links: d.Links, tickets: d.Tickets, destroy: d.Destroyer, exporter: d.Exporter, log: d.Log, auth: d.Auth, cookies: d.Cookies, views: newViews()}
}

// The dashboard reaches the signed-in member and the kit's helpers by
// these short names.
var (
	member   = kit.Member
	loadZone = kit.LoadZone
)

func (s *Dashboard) can(p staff.Permission) echo.MiddlewareFunc { return s.auth.Can(p) }

// recordAccess writes an audit entry for a read of personal data.
func (s *Dashboard) recordAccess(c echo.Context, action, objectType, objectID, detail string) error {
	return s.auth.RecordAccess(c, action, objectType, objectID, detail)
}

// dashboardCSP allows only our own script and stylesheet: no inline
// script, no inline style, nothing from elsewhere.
const dashboardCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// views holds the parsed pages: each page file is parsed together with
// layout.html, which calls its "content" block.
type views struct {
	pages map[string]*template.Template
}

func newViews() *views {
	d := &views{pages: map[string]*template.Template{}}
	names, err := fs.Glob(dashboardViews, "views/*.html")
	if err != nil {
		panic(err)
	}
	funcs := template.FuncMap{"pct": percent, "add": func(a, b int) int { return a + b }, "count": feedback.CountText}
	for _, name := range names {
		base := path.Base(name)
		if base == "layout.html" {
			continue
		}
		d.pages[strings.TrimSuffix(base, ".html")] = template.Must(template.New("layout.html").Funcs(funcs).
			ParseFS(dashboardViews, "views/layout.html", name))
	}
	return d
}

// percent is part of whole in whole percents, 0 when whole is 0.
func percent(part, whole int) int {
	if whole <= 0 {
		return 0
	}
	return part * 100 / whole
}

// page is what every dashboard template receives.
type page struct {
	Title   string
	Nav     string // the active navigation entry
	Member  *staff.Member
	CSRF    string
	Devbox  bool
	Flash   string // a message key, translated
	Search  string
	Data    any
	locale  string
	zone    *time.Location
	nowTime time.Time
}

// T translates a message key into the page's language.
func (p *page) T(key string) string { return translate(p.locale, key) }

// Lang is the page's language tag.
func (p *page) Lang() string { return p.locale }

// Can reports whether the signed-in member's role holds a permission.
func (p *page) Can(perm string) bool {
	return p.Member != nil && p.Member.Role.Can(staff.Permission(perm))
}

// Date shows a time in the member's time zone.
func (p *page) Date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(p.zone).Format("2006-01-02 15:04")
}

// ZoneName names the zone the page's times are shown in.
func (p *page) ZoneName() string { return p.zone.String() }

// Ago shows how long ago a time was ("3 分钟前", "3 min ago"), the date
// once it is more than a week old.
func (p *page) Ago(t time.Time) string { return relative(p.locale, p.nowTime, t, p.zone) }

// render writes a page with status.
func (s *Dashboard) render(c echo.Context, status int, name string, p *page) error {
	t, ok := s.views.pages[name]
	if !ok {
		return errors.New("no dashboard page " + name)
	}
	if m := member(c); m != nil {
		p.Member = m
		p.locale = m.Locale
		p.zone = loadZone(m.TimeZone)
	} else {
		p.locale = guestLocale(c)
		p.zone = loadZone("Asia/Shanghai")
	}
	if sess := session(c); sess != nil {
		p.CSRF = sess.CSRFToken
	} else if p.CSRF == "" {
		p.CSRF = s.loginCSRF(c)
	}
	p.Devbox = s.devbox != nil
	p.nowTime = time.Now()
	if p.Title != "" {
		p.Title = p.T(p.Title)
	}
	var buf bytes.Buffer
	if err := t.Execute(&buf, p); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// pageLocale is the language of the page a request gets: the member's,
// or before sign-in the browser's.
func pageLocale(c echo.Context) string {
	if m := member(c); m != nil {
		return m.Locale
	}
	return guestLocale(c)
}

// errorText words an error for the page a request gets, in its language
// (the JSON API keeps the English message).
func errorText(c echo.Context, err error) string {
	return handover.LocalizedMessage(pageLocale(c), err)
}

// throttledText words a refused sign-in in the page's language.
func throttledText(lang string, e *staff.ThrottledError) string {
	mins := max(int(e.RetryAfter.Round(time.Minute)/time.Minute), 1)
	if e.PerAccount {
		return fmt.Sprintf(locales.T(lang, "errors.signin_throttled_account"), mins)
	}
	return fmt.Sprintf(locales.T(lang, "errors.signin_throttled_address"), mins)
}

// guestLocale picks the language of a page shown before sign-in.
func guestLocale(c echo.Context) string {
	if kit.PrefersChinese(c.Request().Header.Get("Accept-Language")) || c.Request().Header.Get("Accept-Language") == "" {
		return "zh-CN"
	}
	return "en"
}

// dashboardPage sets the headers every dashboard page needs and renders
// errors as pages rather than JSON.
func (s *Dashboard) dashboardPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", dashboardCSP)
		h.Set(echo.HeaderCacheControl, "no-store")
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		return s.renderError(c, err)
	}
}

type errorPage struct {
	Status  int
	Title   string
	Message string
	Login   bool
	// Unblock is where a member blocked by the confidentiality agreement
	// or training goes to unblock themselves.
	Unblock string
}

// renderError shows an error as a page: the domain's message for known
// codes, a generic one (and a log line) for the rest.
func (s *Dashboard) renderError(c echo.Context, err error) error {
	ep := errorPage{Status: http.StatusInternalServerError}
	var he *echo.HTTPError
	var throttled *staff.ThrottledError
	var blocked *governance.AccessError
	if errors.As(err, &blocked) {
		ep.Unblock = blocked.Path
	}
	switch {
	case errors.As(err, &throttled):
		ep.Status, ep.Message = http.StatusTooManyRequests, throttledText(pageLocale(c), throttled)
	case errors.As(err, &he):
		ep.Status = he.Code
		if msg, _ := he.Message.(string); pageLocale(c) == locales.English && msg != http.StatusText(he.Code) {
			ep.Message = msg
		}
	case handover.ErrorCode(err) != handover.EINTERNAL:
		ep.Status, ep.Message = kit.Status(handover.ErrorCode(err)), errorText(c, err)
	}
	if ep.Status >= 500 {
		s.log.Error("dashboard request failed", "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "route", c.Path(), "err", err)
		ep.Message = ""
	}
	ep.Login = ep.Status == http.StatusUnauthorized
	ep.Title = "error." + http.StatusText(ep.Status)
	if !locales.Has(locales.English, ep.Title) {
		ep.Title = map[bool]string{true: "error.Internal Server Error", false: "error.Bad Request"}[ep.Status >= 500]
	}
	return s.render(c, ep.Status, "error", &page{Title: "error.title", Data: ep})
}

// pageRoute registers a dashboard page for signed-in staff whose role holds
// perm ("" for any signed-in member). Unsafe methods need the session's
// CSRF token.
func (s *Dashboard) pageRoute(method, path string, h echo.HandlerFunc, perm staff.Permission) {
	mw := []echo.MiddlewareFunc{s.dashboardPage, s.requireSession, s.checkCSRF}
	if perm != "" {
		mw = append(mw, s.can(perm))
	}
	r := s.echo.Add(method, path, h, mw...)
	r.Name = PageRouteName + r.Name
}

// PageRouteName starts the name of every dashboard page's route, so tests
// walking the router find the pages (and the ones added later).
const PageRouteName = "dashboard page: "

// Register registers the dashboard on e: sign-in, the pages of each
// section and their static files.
func (s *Dashboard) Register(e *echo.Echo) {
	s.echo = e
	for _, name := range []string{"dashboard.css", "dashboard.js"} {
		s.echo.GET("/static/"+name, s.handleDashboardStatic(name))
	}
	s.registerSessionRoutes()
	s.pageRoute(http.MethodGet, "/", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, homePath(member(c).Role)) }, "")
	s.registerTicketPages()
	s.registerCorrectionPages()
	s.registerWeChatBindPages()
	s.registerAccountPages()
	s.registerTokenPages()
	s.registerStaffPages()
	s.registerCustomerPages()
	s.registerCampaignPages()
	s.registerTemplatePages()
	s.registerDevboxPages()
	s.registerGovernancePages()
	s.registerCompliancePages()
	s.registerQueueMonitor()
}

func (s *Dashboard) handleDashboardStatic(name string) echo.HandlerFunc {
	body, err := dashboardStatic.ReadFile("static/" + name)
	if err != nil {
		panic(err)
	}
	ctype := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ctype = "text/javascript; charset=utf-8"
	}
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
		return c.Blob(http.StatusOK, ctype, body)
	}
}
