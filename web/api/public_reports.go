package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerTransparencyRoutes: admins publish or withdraw a transfer's
// information-protection report; anyone reads it at /transparency/{slug}
// (web/public).
func (s *API) registerTransparencyRoutes(g *echo.Group) {
	g.POST("/transfers/:id/public-report", s.handlePublicReportEnable, s.auth.Can(staff.ManageGovernance))
	g.DELETE("/transfers/:id/public-report", s.handlePublicReportDisable, s.auth.Can(staff.ManageGovernance))
}

func (s *API) handlePublicReportEnable(c echo.Context) error {
	slug, err := s.governance.EnablePublicReport(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"slug": slug, "url": s.cfg.PublicURL + "/transparency/" + slug})
}

func (s *API) handlePublicReportDisable(c echo.Context) error {
	if err := s.governance.DisablePublicReport(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
