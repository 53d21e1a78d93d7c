package dashboard

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

const (
	sessionCookie   = "handover_session"
	loginCSRFCookie = "handover_login_csrf"
	sessionKey      = "session"
)

func session(c echo.Context) *staff.Session {
	s, _ := c.Get(sessionKey).(*staff.Session)
	return s
}

func (s *Dashboard) sessionPolicy() staff.SessionPolicy {
	return staff.SessionPolicy{Idle: s.cfg.SessionIdle, MaxAge: s.cfg.SessionMaxAge}
}

func (s *Dashboard) cookie(name, value string, maxAge int) *http.Cookie {
	return s.cookies.Cookie(name, value, "/", maxAge)
}

// requireSession lets through a request with a live session cookie and
// puts the member and session in the context. Without one, a page request
// is sent to sign in (and back afterwards); anything else is refused.
func (s *Dashboard) requireSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var token string
		if ck, err := c.Cookie(sessionCookie); err == nil {
			token = ck.Value
		}
		sess, m, err := s.staff.FindSession(c.Request().Context(), token, s.sessionPolicy())
		if handover.ErrorCode(err) == handover.EUNAUTHORIZED {
			if token != "" {
				c.SetCookie(s.cookie(sessionCookie, "", -1))
			}
			if c.Request().Method == http.MethodGet && !strings.HasSuffix(c.Path(), "/progress") {
				return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return err
		}
		if err != nil {
			return err
		}
		c.Set(sessionKey, sess)
		kit.SetMember(c, m)
		return next(c)
	}
}

// checkCSRF refuses an unsafe request whose form field "csrf" (or header
// X-CSRF-Token) is not the session's token; before sign-in, the login
// form's token, kept in a cookie of its own (kit.CSRF).
func (s *Dashboard) checkCSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return kit.CSRF("csrf", dashboardCSRFToken, errFormExpired)(next)
}

var errFormExpired = handover.Errorf(handover.EFORBIDDEN, "This form has expired or did not come from Handover. Go back, reload the page and send it again.")

// dashboardCSRFToken is the token a dashboard form must send: the
// session's, before sign-in the login form's.
func dashboardCSRFToken(c echo.Context) string {
	if sess := session(c); sess != nil {
		return sess.CSRFToken
	}
	if ck, err := c.Cookie(loginCSRFCookie); err == nil {
		return ck.Value
	}
	return ""
}

// loginCSRF returns the sign-in form's token, setting its cookie when the
// browser has none yet.
func (s *Dashboard) loginCSRF(c echo.Context) string {
	return s.cookies.Token(c, loginCSRFCookie, "/", 0)
}

func (s *Dashboard) registerSessionRoutes() {
	s.echo.GET("/login", s.handleLoginPage, s.dashboardPage)
	s.echo.POST("/login", s.handleLogin, s.dashboardPage, s.checkCSRF)
	s.pageRoute(http.MethodPost, "/logout", s.handleLogout, "")
}

type loginForm struct {
	Email string
	Next  string
	Error string
}

// safeNext keeps a post-sign-in redirect on this site: a path of plain
// printable ASCII (no spaces, backslashes or controls, which browsers strip
// or turn into slashes: "/\t/evil.example" becomes "//evil.example"), not
// starting with "//", and not the sign-in page itself.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/login") || len(next) > 2000 {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' {
			return "/"
		}
	}
	return next
}

func (s *Dashboard) handleLoginPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "login", &page{Title: "login.title", Data: loginForm{Next: safeNext(c.QueryParam("next"))}})
}

// handleLogin checks the form and starts a session with a fresh token.
func (s *Dashboard) handleLogin(c echo.Context) error {
	form := loginForm{Email: strings.TrimSpace(c.FormValue("email")), Next: safeNext(c.FormValue("next"))}
	sess, _, err := s.staff.Login(c.Request().Context(), staff.LoginInput{Email: form.Email, Password: c.FormValue("password"),
		Code: c.FormValue("code"), IP: c.RealIP()}, s.sessionPolicy())
	var throttled *staff.ThrottledError
	switch {
	case errors.As(err, &throttled):
		form.Error = throttledText(pageLocale(c), throttled)
		return s.render(c, http.StatusTooManyRequests, "login", &page{Title: "login.title", Data: form})
	case handover.ErrorCode(err) == handover.EUNAUTHORIZED:
		form.Error = errorText(c, err)
		return s.render(c, http.StatusUnauthorized, "login", &page{Title: "login.title", Data: form})
	case err != nil:
		return err
	}
	c.SetCookie(s.cookie(sessionCookie, sess.Token, int(s.cfg.SessionMaxAge.Seconds())))
	c.SetCookie(s.cookie(loginCSRFCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, form.Next)
}

// handleLogout ends the session in the database, so the cookie is worth
// nothing even if a copy survives.
func (s *Dashboard) handleLogout(c echo.Context) error {
	if ck, err := c.Cookie(sessionCookie); err == nil {
		if err := s.staff.EndSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/login")
}
