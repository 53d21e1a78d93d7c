package web

import (
	"context"
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// The handlers still in this package reach the kit by the names they had
// here before it moved to web/kit.
var (
	member   = kit.Member
	bindJSON = kit.BindJSON
)

func (s *Server) can(p staff.Permission) echo.MiddlewareFunc { return s.auth.Can(p) }

// recordAccess writes an audit entry for a read of personal data.
func (s *Server) recordAccess(c echo.Context, action, objectType, objectID, detail string) error {
	return s.auth.RecordAccess(c, action, objectType, objectID, detail)
}

// requestLog is the server's logger with the request's id.
func (s *Server) requestLog(c echo.Context) *slog.Logger { return kit.RequestLog(s.log, c) }

// rejectCorrection rejects a correction and tells the customer
// (kit.RejectCorrection).
func (s *Server) rejectCorrection(ctx context.Context, id string, m *staff.Member, reason string) (*rights.CorrectionRequest, bool, error) {
	return kit.RejectCorrection(ctx, s.customers, s.rights, s.tickets, s.log, id, m, reason)
}

// campaignProgress loads a campaign, its progress and its pace.
func (s *Server) campaignProgress(c echo.Context) (*campaigns.Campaign, map[channels.DeliveryStatus]int, *campaigns.Pace, error) {
	return kit.CampaignProgress(c, s.campaigns)
}
