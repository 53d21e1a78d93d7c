package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/staff"
)

func (s *Server) registerCampaignSurveyRoutes(g *echo.Group) {
	g.PUT("/campaigns/:id/survey", s.handleCampaignSurvey, can(staff.WriteCampaigns))
}

type surveyJSON struct {
	NPS      bool   `json:"nps"`
	CSAT     bool   `json:"csat"`
	Question string `json:"question"`
}

// handleCampaignSurvey sets what the portal's survey asks.
func (s *Server) handleCampaignSurvey(c echo.Context) error {
	var req surveyJSON
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	sv, err := s.campaigns.SetSurvey(c.Request().Context(), c.Param("id"), links.Survey(req), member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, surveyJSON(sv))
}
