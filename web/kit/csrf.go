package kit

import (
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

// CSRF is the one defence against forms posted from elsewhere, the
// portal's and the dashboard's: an unsafe request (not GET, HEAD or
// OPTIONS) must send, in the form field named field or the X-CSRF-Token
// header, the token want expects for it: a signed-in member's session
// token, or else one kept in a cookie of its own (Cookies.Token). A
// request that does not is refused with refuse.
func CSRF(field string, want func(echo.Context) string, refuse error) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			switch c.Request().Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions:
				return next(c)
			}
			got := c.FormValue(field)
			if got == "" {
				got = c.Request().Header.Get("X-CSRF-Token")
			}
			if !CSRFMatches(want(c), got) {
				return refuse
			}
			return next(c)
		}
	}
}

// CSRFMatches compares a sent token with the expected one in constant
// time; a malformed or empty token never matches.
func CSRFMatches(want, got string) bool {
	if !staff.ValidSessionToken(want) || !staff.ValidSessionToken(got) {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}
