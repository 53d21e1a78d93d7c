package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// handleMe tells a token's owner who they are and what they may do.
func (s *Server) handleMe(c echo.Context) error {
	m := member(c)
	return c.JSON(http.StatusOK, map[string]any{
		"id": m.ID, "email": m.Email, "name": m.Name, "role": m.Role, "locale": m.Locale, "time_zone": m.TimeZone,
	})
}
