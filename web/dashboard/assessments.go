package dashboard

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

// registerAssessmentPages: who may read transfers sees a transfer's impact
// assessments; admins and marketers request one; an admin other than its
// author approves or rejects it (the domain refuses the author).
func (s *Dashboard) registerAssessmentPages() {
	s.pageRoute(http.MethodGet, "/assessments", s.handleAssessmentsPage, staff.ReadTransfers)
	s.pageRoute(http.MethodPost, "/assessments", s.handleAssessmentRequestPage, staff.WriteAssessments)
	s.pageRoute(http.MethodPost, "/assessments/:id/approve", s.handleAssessmentDecidePage(true), staff.ManageGovernance)
	s.pageRoute(http.MethodPost, "/assessments/:id/reject", s.handleAssessmentDecidePage(false), staff.ManageGovernance)
}

type assessmentsView struct {
	Transfers   []*transfers.Transfer
	Transfer    *transfers.Transfer
	Assessments []*assessments.Assessment
	Names       map[string]string
	Activities  []string
	Form        assessments.Assessment
	Error       string
	// DecideError is shown beside the assessment DecideID.
	DecideError, DecideID string
}

func (s *Dashboard) assessmentsPage(c echo.Context, status int, transferID string, v assessmentsView) error {
	var err error
	if v.Transfers, v.Transfer, err = s.pickTransfer(c, transferID); err != nil {
		return err
	}
	if v.Transfer != nil {
		if v.Assessments, err = s.assessments.FindAssessments(c.Request().Context(), v.Transfer.ID); err != nil {
			return err
		}
	}
	if v.Names, err = s.actorNames(c); err != nil {
		return err
	}
	v.Activities = []string{assessments.ActivityExport, assessments.ActivityCampaign}
	return s.render(c, status, "assessments", &page{Title: "assessment.title", Nav: "compliance", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleAssessmentsPage(c echo.Context) error {
	return s.assessmentsPage(c, http.StatusOK, c.QueryParam("transfer"), assessmentsView{})
}

// handleAssessmentRequestPage drafts an assessment for a purpose of the
// transfer.
func (s *Dashboard) handleAssessmentRequestPage(c echo.Context) error {
	ctx := c.Request().Context()
	a := assessments.Assessment{TransferID: c.FormValue("transfer_id"), Activity: c.FormValue("activity"), Purpose: c.FormValue("purpose"),
		Necessity: c.FormValue("necessity"), Risks: c.FormValue("risks"), Measures: c.FormValue("measures")}
	fail := func(status int, msg string) error {
		return s.assessmentsPage(c, status, a.TransferID, assessmentsView{Form: a, Error: msg})
	}
	t, err := s.transfers.FindTransferByID(ctx, a.TransferID)
	if err != nil {
		return formFailed(c, err, fail)
	}
	if err := s.assessments.Create(ctx, &a, t.Purposes, member(c).Actor()); err != nil {
		return formFailed(c, err, fail)
	}
	return c.Redirect(http.StatusSeeOther, "/assessments?transfer="+url.QueryEscape(t.ID)+"&done=assessment_requested")
}

// handleAssessmentDecidePage approves or rejects a draft: the domain
// refuses its author, and the page says so beside it.
func (s *Dashboard) handleAssessmentDecidePage(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		transfer := c.FormValue("transfer_id")
		if err := s.assessments.Decide(c.Request().Context(), c.Param("id"), approve, member(c).Actor()); err != nil {
			return formFailed(c, err, func(status int, msg string) error {
				return s.assessmentsPage(c, status, transfer, assessmentsView{DecideError: msg, DecideID: c.Param("id")})
			})
		}
		done := "assessment_rejected"
		if approve {
			done = "assessment_approved"
		}
		return c.Redirect(http.StatusSeeOther, "/assessments?transfer="+url.QueryEscape(transfer)+"&done="+done)
	}
}
