// Package portal serves the customers' own pages under /l/{token}: the
// transfer notice, consent, the survey, contact, opt-outs, corrections of
// their details and their data (Art. 44–50), and the notice of an
// incident. A link's token is the only credential; failed lookups are
// throttled per client address.
package portal

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

//go:embed views/*.html
var portalViews embed.FS

//go:embed portal.css
var portalCSS []byte

// portalCSP lets the portal's pages use their own stylesheet and post
// their own forms, and nothing else: no script runs on them.
const portalCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

const (
	linkKey = "portal.link"
	langKey = "portal.lang"
	csrfKey = "portal.csrf"
	// guessLimit failed token lookups per minute and client address are
	// allowed; beyond it the portal answers 429 until the minute ends.
	guessLimit = 20
)

// Portal is the customer portal: what its pages call, its templates, the
// token guessing throttle and its metrics.
type Portal struct {
	cfg       *config.Config
	db        *database.DB
	customers *customers.Store
	rights    *rights.Store
	// transferStore finds a link's transfer (cached in transfers).
	transferStore *transfers.Store
	links         *links.Store
	campaigns     *campaigns.Service
	incidents     *incidents.Store
	devbox        *devbox.Channel
	recordEvent   channels.RecordFunc
	sendCode      rights.SendFunc
	wechat        *wechat.Channel
	cookies       kit.Cookies
	log           *slog.Logger

	pages    map[string]*template.Template
	throttle *guessThrottle
	cssETag  string
	// transfers caches transfers by id: a transfer is never changed once
	// recorded, and every portal page shows one.
	transfers sync.Map
}

// Deps are what the portal uses.
type Deps struct {
	Config *config.Config
	DB     *database.DB
	// Redis counts failed token lookups across processes; without it they
	// are not throttled.
	Redis redis.UniversalClient
	// Metrics registers the throttle's counters.
	Metrics   *prometheus.Registry
	Customers *customers.Store
	Rights    *rights.Store
	Transfers *transfers.Store
	Links     *links.Store
	// Campaigns, when set, stops campaigns messaging a customer who
	// declines or opts out.
	Campaigns *campaigns.Service
	// Incidents, when set, shows an incident's notice to the customers
	// it was sent to.
	Incidents *incidents.Store
	// Devbox, when running, is offered on the opt-out page.
	Devbox *devbox.Channel
	// RecordEvent stores the portal's inbound events (survey free text
	// and low scores, contact messages) for the feedback queue.
	RecordEvent channels.RecordFunc
	// SendCode sends the confirmation codes (corrections, my data).
	SendCode rights.SendFunc
	// WeChat, when configured, binds the openid of a customer who opens
	// their link inside WeChat.
	WeChat  *wechat.Channel
	Cookies kit.Cookies
	Log     *slog.Logger
}

// New builds the portal.
func New(d Deps) *Portal {
	p := &Portal{cfg: d.Config, db: d.DB, customers: d.Customers, rights: d.Rights, transferStore: d.Transfers, links: d.Links, campaigns: d.Campaigns, incidents: d.Incidents,
		devbox: d.Devbox, recordEvent: d.RecordEvent, sendCode: d.SendCode, wechat: d.WeChat, cookies: d.Cookies, log: d.Log,
		pages: map[string]*template.Template{}, throttle: newGuessThrottle(d.Redis, d.Metrics)}
	funcs := template.FuncMap{"inc": func(i int) int { return i + 1 }}
	for _, page := range []string{"notice", "consent", "review", "result", "survey", "contact", "optout", "gone",
		"details", "details_code", "mydata_start", "mydata_code", "mydata", "incident"} {
		p.pages[page] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(portalViews, "views/layout.html", "views/"+page+".html"))
	}
	sum := sha256.Sum256(portalCSS)
	p.cssETag = `"` + hex.EncodeToString(sum[:8]) + `"`
	return p
}

// Register adds the portal's routes to e.
func (s *Portal) Register(e *echo.Echo) {
	e.GET("/static/portal.css", s.handlePortalCSS)
	l := e.Group("/l/:token", s.portalHeaders, middleware.BodyLimit("16K"), s.portalLink)
	// RFC 8058: a mail client's one-click unsubscribe is a machine POST
	// with no page before it, so it carries no CSRF token.
	l.POST("/unsubscribe", s.handlePortalUnsubscribe)
	f := l.Group("", s.portalCSRF)
	f.GET("", s.handlePortalNotice)
	f.GET("/consent", s.handlePortalConsent)
	f.POST("/consent", s.handlePortalConsentSubmit)
	f.GET("/survey", s.handlePortalSurvey)
	f.POST("/survey", s.handlePortalSurveySubmit)
	f.GET("/contact", s.handlePortalContact)
	f.POST("/contact", s.handlePortalContactSubmit)
	f.GET("/optout", s.handlePortalOptOut)
	f.POST("/optout", s.handlePortalOptOutSubmit)
	f.GET("/details", s.handlePortalDetails)
	f.POST("/details", s.handlePortalDetailsSubmit)
	f.GET("/details/confirm", s.handlePortalDetailsCode)
	f.POST("/details/confirm", s.handlePortalDetailsConfirm)
	f.POST("/details/resend", s.handlePortalDetailsResend)
	f.GET("/mydata", s.handlePortalMyData)
	f.POST("/mydata/code", s.handlePortalMyDataCode)
	f.POST("/mydata/verify", s.handlePortalMyDataVerify)
	f.GET("/mydata/download", s.handlePortalMyDataDownload)
}

// portalCSRF guards the portal's forms (kit.CSRF): their token is kept
// for a day in a cookie of its own under /l/, and put in the context for
// the page to send in its forms as _csrf.
func (s *Portal) portalCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	check := kit.CSRF("_csrf", func(c echo.Context) string { return c.Get(csrfKey).(string) }, errFormGone)(next)
	return func(c echo.Context) error {
		c.Set(csrfKey, s.cookies.Token(c, "hov_csrf", "/l/", 24*3600))
		return check(c)
	}
}

var errFormGone = handover.Errorf(handover.EFORBIDDEN, "The form expired; open the page again.")

// handlePortalCSS serves the portal's one stylesheet, cached for a day.
func (s *Portal) handlePortalCSS(c echo.Context) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, "public, max-age=86400")
	h.Set("ETag", s.cssETag)
	if c.Request().Header.Get("If-None-Match") == s.cssETag {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", portalCSS)
}

// portalHeaders sets the portal's CSP, keeps its pages out of caches and
// picks the language: ?lang=en or ?lang=zh switches and is remembered in a
// cookie; zh-CN otherwise.
func (s *Portal) portalHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderContentSecurityPolicy, portalCSP)
		h.Set(echo.HeaderCacheControl, "no-store")
		lang := "zh-CN"
		if ck, err := c.Cookie("hov_lang"); err == nil && ck.Value == "en" {
			lang = "en"
		}
		if q := c.QueryParam("lang"); q == "en" || q == "zh" {
			lang = map[string]string{"en": "en", "zh": "zh-CN"}[q]
			c.SetCookie(&http.Cookie{Name: "hov_lang", Value: q, Path: "/l/", MaxAge: 365 * 24 * 3600, HttpOnly: true,
				Secure: s.cookies.Secure, SameSite: http.SameSiteLaxMode})
		}
		c.Set(langKey, lang)
		return next(c)
	}
}

// portalLink resolves the token (opening the notice counts an open) and
// answers a friendly 404/410 page when it does not; failed lookups are
// throttled per client address.
func (s *Portal) portalLink(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ip := c.RealIP()
		if s.throttle.blocked(ip) {
			return s.renderGone(c, http.StatusTooManyRequests, nil)
		}
		ctx := c.Request().Context()
		var l *links.Link
		var err error
		step := s.wechatStep(c)
		// Opening the notice counts an open; the return from WeChat's
		// OAuth is the same open.
		if c.Request().Method == http.MethodGet && c.Path() == "/l/:token" && step != "back" {
			l, err = s.links.Open(ctx, c.Param("token"))
		} else {
			l, err = s.links.Resolve(ctx, c.Param("token"))
		}
		switch {
		case l != nil && c.Path() == "/l/:token/unsubscribe":
			// An email is unsubscribed from whenever it is read, even
			// after its link expired or was revoked (RFC 8058).
		case errors.Is(err, links.ErrUnknown), errors.Is(err, links.ErrExpired), errors.Is(err, links.ErrRevoked):
			status := http.StatusGone
			if errors.Is(err, links.ErrUnknown) {
				status = http.StatusNotFound
				// Only unknown tokens are guesses; an expired link is a
				// customer who came back late.
				if s.throttle.fail(ctx, ip) {
					status = http.StatusTooManyRequests
				}
			}
			return s.renderGone(c, status, l)
		case err != nil:
			return err
		}
		c.Set(linkKey, l)
		if step != "" {
			if done, err := s.wechatOAuth(c, l, step); done || err != nil {
				return err
			}
		}
		return next(c)
	}
}

func portalLinkOf(c echo.Context) *links.Link { return c.Get(linkKey).(*links.Link) }

// portalView is what every portal page gets.
type portalView struct {
	Lang, OtherLang, OtherLangLabel string
	OtherLangTag                    string // the other language's tag: zh-CN or en
	T                               map[string]string
	Company, Contact                string
	Base                            string // /l/{token}
	CSRF                            string
	Transfer                        *transfers.Transfer
	Notice                          notice
	Purposes                        []purposeRow
	Survey                          surveyView
	OptOut                          optOutView
	Details                         detailsView
	MyData                          myDataView
	Result                          resultView
	Problem                         string
	// Zone is where the page's times are shown, named on the page.
	Zone *time.Location
	Tabs []portalTab
}

// portalTab is one entry of the portal's menu; Current marks the page's.
type portalTab struct {
	Path, Key string
	Current   bool
}

// portalTabs lists the menu with the tab of route (an echo path) current.
func portalTabs(route string) []portalTab {
	tabs := []portalTab{{"", "nav_notice", false}, {"/consent", "nav_consent", false}, {"/survey", "nav_survey", false},
		{"/details", "nav_details", false}, {"/mydata", "nav_mydata", false}, {"/contact", "nav_contact", false}, {"/optout", "nav_optout", false}}
	rest := strings.TrimPrefix(route, "/l/:token")
	for i := range tabs {
		tabs[i].Current = rest == tabs[i].Path || tabs[i].Path != "" && strings.HasPrefix(rest, tabs[i].Path+"/")
	}
	return tabs
}

// Time shows t in the page's zone.
func (v *portalView) Time(t time.Time) string {
	if v.Zone == nil {
		return t.UTC().Format("2006-01-02 15:04")
	}
	return t.In(v.Zone).Format("2006-01-02 15:04")
}

// customerZone is the customer's own time zone, else the company's.
func (s *Portal) customerZone(customerZone string) *time.Location {
	if customerZone != "" {
		if loc, err := time.LoadLocation(customerZone); err == nil {
			return loc
		}
	}
	return kit.LoadZone(s.cfg.TimeZone)
}

func (s *Portal) newPortalView(c echo.Context) *portalView {
	lang, _ := c.Get(langKey).(string)
	v := &portalView{Lang: lang, T: portalText[lang], Company: s.cfg.CompanyName, Contact: s.cfg.CompanyContact}
	v.OtherLang, v.OtherLangLabel, v.OtherLangTag = "en", "English", "en"
	if lang == "en" {
		v.OtherLang, v.OtherLangLabel, v.OtherLangTag = "zh", "中文", "zh-CN"
	}
	if tok, ok := c.Get(csrfKey).(string); ok {
		v.CSRF = tok
	}
	if c.Get(linkKey) != nil {
		v.Base = "/l/" + c.Param("token")
		v.Tabs = portalTabs(c.Path())
	}
	return v
}

// withTransfer loads the link's transfer and its notice into v.
func (s *Portal) withTransfer(ctx context.Context, v *portalView, l *links.Link) error {
	var t *transfers.Transfer
	if cached, ok := s.transfers.Load(l.TransferID); ok {
		t = cached.(*transfers.Transfer)
	} else {
		var err error
		if t, err = s.transferStore.FindTransferByID(ctx, l.TransferID); err != nil {
			return err
		}
		s.transfers.Store(t.ID, t)
	}
	v.Transfer, v.Notice = t, buildNotice(t, l, v.Lang, v.T)
	return nil
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (s *Portal) renderPortal(c echo.Context, status int, page string, v *portalView) error {
	buf := bufPool.Get().(*bytes.Buffer)
	defer func() { buf.Reset(); bufPool.Put(buf) }()
	if err := s.pages[page].Execute(buf, v); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// renderGone is the page for a link that does not open, whatever the
// reason: the status differs (404 unknown, 410 expired or revoked, 429
// guessing), the words do not. An expired or revoked link (l) still
// names whom to ask: the configured company contact, else its transfer's
// buyer and the contact the notice gave.
func (s *Portal) renderGone(c echo.Context, status int, l *links.Link) error {
	c.Set(linkKey, nil)
	v := s.newPortalView(c)
	if v.T == nil {
		v.T, v.Lang = portalText["zh-CN"], "zh-CN"
	}
	if v.Contact == "" && l != nil {
		if t, err := s.transferStore.FindTransferByID(c.Request().Context(), l.TransferID); err == nil {
			v.Contact = t.BuyerContact
			if v.Company == "" {
				v.Company = t.BuyerName
			}
		}
	}
	return s.renderPortal(c, status, "gone", v)
}

// Error answers an error on a portal route as a page, not JSON, in the
// page's language (kit.PageErrors).
func (s *Portal) Error(c echo.Context, status int, err error) {
	c.Response().Header().Set(echo.HeaderContentSecurityPolicy, portalCSP)
	v := s.newPortalView(c)
	if v.T == nil {
		v.T, v.Lang = portalText["zh-CN"], "zh-CN"
	}
	v.Problem = v.T["problem_generic"]
	switch status {
	case http.StatusForbidden:
		v.Problem = v.T["problem_form"]
	case http.StatusBadRequest:
		lang, _ := c.Get(langKey).(string)
		v.Problem = handover.LocalizedMessage(lang, err)
	case http.StatusRequestEntityTooLarge:
		v.Problem = v.T["problem_large"]
	}
	v.Result = resultView{Warn: true, Title: v.T["problem_title"], Detail: v.Problem}
	if err := s.renderPortal(c, status, "result", v); err != nil {
		c.NoContent(status)
	}
}

// guessThrottle counts failed token lookups per client address in Redis
// (shared by every api process, per minute) and remembers locally which
// addresses are over the limit, so a good lookup costs no Redis call.
type guessThrottle struct {
	rdb       redis.UniversalClient
	mu        sync.Mutex
	until     map[string]time.Time
	failed    prometheus.Counter
	throttled prometheus.Counter
}

func newGuessThrottle(rdb redis.UniversalClient, reg *prometheus.Registry) *guessThrottle {
	g := &guessThrottle{rdb: rdb, until: map[string]time.Time{},
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "handover_portal_failed_lookups_total",
			Help: "Portal link tokens that matched no link (guesses, typos)."}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{Name: "handover_portal_throttled_total",
			Help: "Portal requests refused because their address guessed too many tokens."}),
	}
	reg.MustRegister(g.failed, g.throttled)
	return g
}

func (g *guessThrottle) blocked(ip string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	t, ok := g.until[ip]
	if ok && time.Now().Before(t) {
		g.throttled.Inc()
		return true
	}
	if ok {
		delete(g.until, ip)
	}
	return false
}

// fail counts a failed lookup and reports whether the address is now over
// the limit. Without Redis the count is lost, never the request.
func (g *guessThrottle) fail(ctx context.Context, ip string) bool {
	g.failed.Inc()
	if g.rdb == nil {
		return false
	}
	now := time.Now().UTC()
	window := now.Truncate(time.Minute)
	key := "handover:portal:guess:" + window.Format("150405") + ":" + ip
	pipe := g.rdb.TxPipeline()
	incr := pipe.Incr(ctx, key)
	pipe.Expire(ctx, key, 2*time.Minute)
	if _, err := pipe.Exec(ctx); err != nil || incr.Val() <= guessLimit {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, t := range g.until { // keep the map to the addresses still blocked
		if now.After(t) {
			delete(g.until, k)
		}
	}
	g.until[ip] = window.Add(time.Minute)
	g.throttled.Inc()
	return true
}
