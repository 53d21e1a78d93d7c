package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
	"github.com/handoverhq/handover/web/public"
)

func (s *API) registerIncidentRoutes(g *echo.Group) {
	g.POST("/incidents", s.handleIncidentCreate, s.auth.Can(staff.ManageIncidents))
	g.GET("/incidents", s.handleIncidentList, s.auth.Can(staff.ReadAudit))
	g.GET("/incidents/:id", s.handleIncidentView, s.auth.Can(staff.ReadAudit))
	g.POST("/incidents/:id/events", s.handleIncidentEvent, s.auth.Can(staff.ManageIncidents))
	g.GET("/incidents/:id/report", s.handleIncidentReport, s.auth.Can(staff.ReadAudit))
	g.POST("/incidents/:id/notice", s.handleIncidentNotice, s.auth.Can(staff.ManageIncidents))
}

// handleIncidentNotice drafts the notice campaign to the affected
// customers.
func (s *API) handleIncidentNotice(c echo.Context) error {
	var req struct {
		TransferID string          `json:"transfer_id"`
		Channels   []channels.Name `json:"channels"`
		Locale     string          `json:"locale"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cp, warnings, err := incidents.NewNotifier(s.incidents, s.campaigns, s.templates).DraftNotice(c.Request().Context(), c.Param("id"),
		incidents.NoticeRequest{TransferID: req.TransferID, Channels: req.Channels, Locale: req.Locale, Actor: kit.Member(c).Actor()})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/campaigns/"+cp.ID)
	return c.JSON(http.StatusCreated, struct {
		campaignJSON
		Warnings []string `json:"warnings"`
	}{toCampaignJSON(cp), append([]string{}, warnings...)})
}

// handleIncidentCreate records an incident with the affected customers.
func (s *API) handleIncidentCreate(c echo.Context) error {
	var req struct {
		incidents.Incident
		CustomerIDs []string `json:"customer_ids"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	in := req.Incident
	if err := s.incidents.Record(c.Request().Context(), &in, req.CustomerIDs, kit.Member(c).Actor()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/incidents/"+in.ID)
	return c.JSON(http.StatusCreated, in)
}

func (s *API) handleIncidentList(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	list, next, err := s.incidents.FindIncidents(c.Request().Context(), cursor, limit)
	if err != nil {
		return err
	}
	return listJSON(c, list, next)
}

func (s *API) handleIncidentView(c echo.Context) error {
	in, err := s.incidents.FindIncidentByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, in)
}

// handleIncidentEvent adds a timeline step or moves the status.
func (s *API) handleIncidentEvent(c echo.Context) error {
	var req struct {
		Kind string `json:"kind"`
		Note string `json:"note"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.incidents.AddEvent(c.Request().Context(), c.Param("id"), req.Kind, req.Note, kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleIncidentReport renders the report for the regulator as an HTML
// document to print or save as PDF: counts and measures, no personal data.
func (s *API) handleIncidentReport(c echo.Context) error {
	body, err := public.IncidentReport(c, s.incidents, c.Param("id"))
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, body)
}
