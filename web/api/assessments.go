package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerAssessmentRoutes(g *echo.Group) {
	g.POST("/assessments", s.handleAssessmentCreate, s.auth.Can(staff.WriteAssessments))
	g.GET("/transfers/:id/assessments", s.handleAssessmentList, s.auth.Can(staff.ReadTransfers))
	g.POST("/assessments/:id/approve", s.handleAssessmentDecide(true), s.auth.Can(staff.ManageGovernance))
	g.POST("/assessments/:id/reject", s.handleAssessmentDecide(false), s.auth.Can(staff.ManageGovernance))
}

// handleAssessmentCreate drafts an impact assessment for a purpose of a
// transfer.
func (s *API) handleAssessmentCreate(c echo.Context) error {
	var a assessments.Assessment
	if err := kit.BindJSON(c, &a); err != nil {
		return err
	}
	t, err := s.transfers.FindTransferByID(c.Request().Context(), a.TransferID)
	if err != nil {
		return err
	}
	if err := s.assessments.Create(c.Request().Context(), &a, t.Purposes, kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

func (s *API) handleAssessmentList(c echo.Context) error {
	list, err := s.assessments.FindAssessments(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return listJSON(c, list, "") // a transfer has a handful
}

// handleAssessmentDecide approves or rejects a draft; its author cannot.
func (s *API) handleAssessmentDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := s.assessments.Decide(c.Request().Context(), c.Param("id"), approve, kit.Member(c).Actor()); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
