package api

import (
	"net/http"

	"github.com/handoverhq/handover/web/kit"
	"github.com/labstack/echo/v4"
)

// handleMe tells a token's owner who they are and what they may do.
func (s *API) handleMe(c echo.Context) error {
	m := kit.Member(c)
	return c.JSON(http.StatusOK, map[string]any{
		"id": m.ID, "email": m.Email, "name": m.Name, "role": m.Role, "locale": m.Locale, "time_zone": m.TimeZone,
	})
}
