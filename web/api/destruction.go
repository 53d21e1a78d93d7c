package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerDestructionRoutes(g *echo.Group) {
	g.POST("/transfers/:id/destruction-plans", s.handleDestructionRequest, s.auth.Can(staff.RequestDestruction))
	g.GET("/destruction-plans/:id", s.handleDestructionView, s.auth.Can(staff.ReadAudit))
	g.POST("/destruction-plans/:id/approve", s.handleDestructionApprove, s.auth.Can(staff.ApproveDestruction))
	g.POST("/destruction-plans/:id/cancel", s.handleDestructionCancel, s.auth.Can(staff.ReadAudit))
	g.POST("/destruction-plans/:id/run", s.handleDestructionRun, s.auth.Can(staff.RequestDestruction))
	g.GET("/destruction-plans/:id/report", s.handleDestructionReport, s.auth.Can(staff.ReadAudit))
}

// handleDestructionRequest plans the destruction of the seller's copy.
func (s *API) handleDestructionRequest(c echo.Context) error {
	var req struct {
		RetentionDays int `json:"retention_days"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	p, err := s.destroy.RequestDestruction(c.Request().Context(), c.Param("id"), req.RetentionDays, kit.Member(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/destruction-plans/"+p.ID)
	return c.JSON(http.StatusCreated, p)
}

// handleDestructionView shows one plan.
func (s *API) handleDestructionView(c echo.Context) error {
	p, err := s.destroy.FindPlanByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleDestructionApprove is the auditor's second approval.
func (s *API) handleDestructionApprove(c echo.Context) error {
	p, err := s.destroy.ApproveDestruction(c.Request().Context(), c.Param("id"), kit.Member(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleDestructionCancel withdraws a plan that has not started.
func (s *API) handleDestructionCancel(c echo.Context) error {
	d := s.destroy
	if err := d.CancelDestruction(c.Request().Context(), c.Param("id"), kit.Member(c)); err != nil {
		return err
	}
	p, err := d.FindPlanByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleDestructionRun runs an approved, due plan now and answers the
// verification outcome.
func (s *API) handleDestructionRun(c echo.Context) error {
	r, err := s.destroy.RunDestruction(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if r == nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"plan": r.Plan, "verified": r.Verified,
		"report": "/api/v1/destruction-plans/" + r.Plan.ID + "/report"})
}

// handleDestructionReport serves the stored HTML report.
func (s *API) handleDestructionReport(c echo.Context) error {
	html, err := s.destroy.Report(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, html)
}
