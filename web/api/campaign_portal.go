package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerCampaignPortalRoutes(g *echo.Group) {
	g.PUT("/campaigns/:id/portal", s.handleCampaignPortal, s.auth.Can(staff.WriteCampaigns))
}

type surveyJSON struct {
	NPS      bool   `json:"nps"`
	CSAT     bool   `json:"csat"`
	Question string `json:"question"`
}

type portalSettingsJSON struct {
	Survey      surveyJSON `json:"survey"`
	LinkTTLDays int        `json:"link_ttl_days"`
}

// handleCampaignPortal sets how long the campaign's links live and what
// the portal's survey asks.
func (s *API) handleCampaignPortal(c echo.Context) error {
	var req portalSettingsJSON
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	ps, err := s.campaigns.SetPortalSettings(c.Request().Context(), c.Param("id"),
		campaigns.PortalSettings{Survey: links.Survey(req.Survey), LinkTTLDays: req.LinkTTLDays}, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, portalSettingsJSON{Survey: surveyJSON(ps.Survey), LinkTTLDays: ps.LinkTTLDays})
}
