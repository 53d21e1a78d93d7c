package web

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// The handlers still in this package reach the kit by the names they had
// here before it moved to web/kit.
var (
	member   = kit.Member
	bindJSON = kit.BindJSON
	loadZone = kit.LoadZone
)

func (s *Server) can(p staff.Permission) echo.MiddlewareFunc { return s.auth.Can(p) }

// recordAccess writes an audit entry for a read of personal data.
func (s *Server) recordAccess(c echo.Context, action, objectType, objectID, detail string) error {
	return s.auth.RecordAccess(c, action, objectType, objectID, detail)
}

// requestLog is the server's logger with the request's id.
func (s *Server) requestLog(c echo.Context) *slog.Logger { return kit.RequestLog(s.log, c) }
