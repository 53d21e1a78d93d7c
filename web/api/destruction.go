package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/staff"
)

func (s *Server) registerDestructionRoutes(g *echo.Group) {
	g.POST("/transfers/:id/destruction-plans", s.handleDestructionRequest, s.can(staff.RequestDestruction))
	g.GET("/destruction-plans/:id", s.handleDestructionView, s.can(staff.ReadAudit))
	g.POST("/destruction-plans/:id/approve", s.handleDestructionApprove, s.can(staff.ApproveDestruction))
	g.POST("/destruction-plans/:id/cancel", s.handleDestructionCancel, s.can(staff.ReadAudit))
	g.POST("/destruction-plans/:id/run", s.handleDestructionRun, s.can(staff.RequestDestruction))
	g.GET("/destruction-plans/:id/report", s.handleDestructionReport, s.can(staff.ReadAudit))
}

// destroyer is the destruction service (Deps.Destroyer).
func (s *Server) destroyer() *lifecycle.Destroyer { return s.destroy }

// handleDestructionRequest plans the destruction of the seller's copy.
func (s *Server) handleDestructionRequest(c echo.Context) error {
	var req struct {
		RetentionDays int `json:"retention_days"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	p, err := s.destroyer().RequestDestruction(c.Request().Context(), c.Param("id"), req.RetentionDays, member(c))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/destruction-plans/"+p.ID)
	return c.JSON(http.StatusCreated, p)
}

// handleDestructionView shows one plan.
func (s *Server) handleDestructionView(c echo.Context) error {
	p, err := s.destroyer().FindPlanByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleDestructionApprove is the auditor's second approval.
func (s *Server) handleDestructionApprove(c echo.Context) error {
	p, err := s.destroyer().ApproveDestruction(c.Request().Context(), c.Param("id"), member(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// handleDestructionCancel withdraws a plan that has not started.
func (s *Server) handleDestructionCancel(c echo.Context) error {
	d := s.destroyer()
	if err := d.CancelDestruction(c.Request().Context(), c.Param("id"), member(c)); err != nil {
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
func (s *Server) handleDestructionRun(c echo.Context) error {
	r, err := s.destroyer().RunDestruction(c.Request().Context(), c.Param("id"), member(c).Actor())
	if r == nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"plan": r.Plan, "verified": r.Verified,
		"report": "/api/v1/destruction-plans/" + r.Plan.ID + "/report"})
}

// handleDestructionReport serves the stored HTML report.
func (s *Server) handleDestructionReport(c echo.Context) error {
	html, err := s.destroyer().Report(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, html)
}
