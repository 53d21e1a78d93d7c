package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerReviewRoutes: access reviews (admins decide, auditors read) and
// the access report for auditors.
func (s *API) registerReviewRoutes(g *echo.Group) {
	g.POST("/access-reviews", s.handleReviewStart, s.auth.Can(staff.ManageGovernance))
	g.GET("/access-reviews/:id", s.handleReviewView, s.auth.Can(staff.ReadAudit))
	g.POST("/access-reviews/:id/items/:staff_id", s.handleReviewDecide, s.auth.Can(staff.ManageGovernance))
	g.GET("/access-report", s.handleAccessReport, s.auth.Can(staff.ReadAudit))
}

// handleReviewStart snapshots every account for review.
func (s *API) handleReviewStart(c echo.Context) error {
	r, err := s.governance.StartReview(c.Request().Context(), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

// handleReviewView shows a review as JSON, or as CSV with ?format=csv.
func (s *API) handleReviewView(c echo.Context) error {
	r, err := s.governance.FindReviewByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if c.QueryParam("format") != "csv" {
		return c.JSON(http.StatusOK, r)
	}
	kit.SetAttachment(c, "access-review-"+r.ID+".csv")
	return governance.WriteReviewCSV(c.Response(), r)
}

// handleReviewDecide confirms or revokes one account.
func (s *API) handleReviewDecide(c echo.Context) error {
	var req struct {
		Decision string `json:"decision"`
		Note     string `json:"note"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.governance.DecideReviewItem(c.Request().Context(), c.Param("id"), c.Param("staff_id"), req.Decision, req.Note, kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleAccessReport lists reveals and exports with anomaly flags, as JSON
// or CSV (?format=csv); reading it is itself audited.
func (s *API) handleAccessReport(c echo.Context) error {
	f := governance.AccessFilter{Actor: c.QueryParam("actor")}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.QueryParam(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return handover.Errorf(handover.EINVALID, "%s must be an RFC 3339 time such as 2026-03-01T00:00:00+08:00.", p.name)
			}
			*p.dst = t.UTC()
		}
	}
	entries, err := s.governance.AccessReport(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if err := s.auth.RecordAccess(c, "access_report.read", "audit", "", fmt.Sprintf("entries=%d", len(entries))); err != nil {
		return err
	}
	if c.QueryParam("format") == "csv" {
		kit.SetAttachment(c, "access-report.csv")
		return governance.WriteAccessCSV(c.Response(), entries)
	}
	if entries == nil {
		entries = []governance.AccessEntry{}
	}
	return c.JSON(http.StatusOK, map[string]any{"entries": entries})
}
