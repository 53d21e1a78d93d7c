package kit

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

// Cookies is the one cookie policy, the portal's and the dashboard's:
// every cookie is HttpOnly and SameSite=Lax, and Secure when
// HANDOVER_COOKIE_SECURE says so (config.SecureCookies: by default,
// unless the public URL is plain http).
type Cookies struct {
	Secure bool
}

// Cookie is a cookie of name under path; maxAge 0 lasts as long as the
// browser session, a negative one deletes the cookie.
func (p Cookies) Cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: p.Secure, SameSite: http.SameSiteLaxMode}
}

// Token returns the CSRF token kept in the cookie name (see CSRF),
// setting a fresh one under path when the browser has none yet or a
// malformed one.
func (p Cookies) Token(c echo.Context, name, path string, maxAge int) string {
	if ck, err := c.Cookie(name); err == nil && staff.ValidSessionToken(ck.Value) {
		return ck.Value
	}
	token := staff.NewToken()
	c.SetCookie(p.Cookie(name, token, path, maxAge))
	return token
}
