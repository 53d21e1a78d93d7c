package dashboard

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

// registerGovernancePages: every member's agreement and training pages,
// and the admins' and auditors' governance page and access report.
func (s *Dashboard) registerGovernancePages() {
	s.pageRoute(http.MethodGet, governance.AgreementPath, s.handleAgreementPage, "")
	s.pageRoute(http.MethodPost, governance.AgreementPath, s.handleAgreementAcceptPage, "")
	s.pageRoute(http.MethodGet, governance.TrainingPath, s.handleTrainingPage, "")
	s.pageRoute(http.MethodPost, governance.TrainingPath+"/:id", s.handleTrainingAttemptPage, "")
	s.pageRoute(http.MethodGet, "/governance", s.handleGovernancePage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/governance/agreement", s.handleAgreementPublishPage, staff.ManageGovernance)
	s.pageRoute(http.MethodPost, "/governance/reviews", s.handleReviewStartPage, staff.ManageGovernance)
	s.pageRoute(http.MethodPost, "/governance/reviews/:id/items/:staff_id", s.handleReviewDecidePage, staff.ManageGovernance)
	s.pageRoute(http.MethodPost, "/governance/transfers/:id/public-report", s.handlePublicReportTogglePage, staff.ManageGovernance)
	s.pageRoute(http.MethodGet, "/access-report", s.handleAccessReportPage, staff.ReadAudit)
	s.pageRoute(http.MethodGet, "/access-report.csv", s.handleAccessReportCSV, staff.ReadAudit)
}

type agreementView struct {
	Agreement *governance.Agreement
	Text      string
	Granted   bool
}

func (s *Dashboard) handleAgreementPage(c echo.Context) error {
	ctx, m := c.Request().Context(), member(c)
	v := agreementView{Granted: s.governance.CheckAccess(ctx, m) == nil}
	a, err := s.governance.CurrentAgreement(ctx)
	if err != nil && handover.ErrorCode(err) != handover.ENOTFOUND {
		return err
	}
	if a != nil {
		v.Agreement, v.Text = a, a.Text(m.Locale)
	}
	return s.render(c, http.StatusOK, "agreement", &page{Title: "gov.agreement", Nav: "agreement", Flash: c.QueryParam("done"), Data: v})
}

// handleAgreementAcceptPage records acceptance of the version shown.
func (s *Dashboard) handleAgreementAcceptPage(c echo.Context) error {
	if err := s.governance.AcceptAgreement(c.Request().Context(), member(c), c.FormValue("hash"), c.RealIP()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, governance.AgreementPath+"?done=agreement_accepted")
}

func (s *Dashboard) handleTrainingPage(c echo.Context) error {
	due, err := s.governance.DueTraining(c.Request().Context(), member(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "training", &page{Title: "gov.training", Nav: "agreement", Flash: c.QueryParam("done"), Data: due})
}

// handleTrainingAttemptPage scores one module's answers (q0, q1, …).
func (s *Dashboard) handleTrainingAttemptPage(c echo.Context) error {
	mod, err := s.governance.FindModuleByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	answers := make([]int, len(mod.Questions))
	for i := range answers {
		if answers[i], err = strconv.Atoi(c.FormValue(fmt.Sprintf("q%d", i))); err != nil {
			return handover.Errorf(handover.EINVALID, "Answer every question.")
		}
	}
	r, err := s.governance.TakeTraining(c.Request().Context(), member(c), mod.ID, answers)
	if err != nil {
		return err
	}
	done := "training_failed"
	if r.Passed {
		done = "training_passed"
	}
	return c.Redirect(http.StatusSeeOther, governance.TrainingPath+"?done="+done)
}

type governanceView struct {
	Agreement *governance.Agreement
	Review    *governance.Review
	Transfers []*transfers.Transfer
	Slugs     map[string]string
	PublicURL string
}

// handleGovernancePage shows the agreement version, the latest access
// review with its decisions, and each transfer's public report.
func (s *Dashboard) handleGovernancePage(c echo.Context) error {
	ctx := c.Request().Context()
	v := governanceView{PublicURL: s.cfg.PublicURL}
	var err error
	if v.Agreement, err = s.governance.CurrentAgreement(ctx); err != nil && handover.ErrorCode(err) != handover.ENOTFOUND {
		return err
	}
	if v.Review, err = s.governance.LatestReview(ctx); err != nil && handover.ErrorCode(err) != handover.ENOTFOUND {
		return err
	}
	if v.Transfers, err = s.transfers.FindTransfers(ctx); err != nil {
		return err
	}
	if v.Slugs, err = s.governance.PublicReportSlugs(ctx); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "governance", &page{Title: "gov.title", Nav: "governance", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleAgreementPublishPage(c echo.Context) error {
	if _, err := s.governance.PublishAgreement(c.Request().Context(), c.FormValue("text_zh"), c.FormValue("text_en"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/governance?done=agreement_published")
}

func (s *Dashboard) handleReviewStartPage(c echo.Context) error {
	if _, err := s.governance.StartReview(c.Request().Context(), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/governance?done=review_started")
}

func (s *Dashboard) handleReviewDecidePage(c echo.Context) error {
	err := s.governance.DecideReviewItem(c.Request().Context(), c.Param("id"), c.Param("staff_id"), c.FormValue("decision"),
		c.FormValue("note"), member(c).Actor())
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/governance?done=review_decided")
}

// handlePublicReportTogglePage publishes or withdraws (enable=0) a
// transfer's public report.
func (s *Dashboard) handlePublicReportTogglePage(c echo.Context) error {
	ctx, actor := c.Request().Context(), member(c).Actor()
	if c.FormValue("enable") == "0" {
		if err := s.governance.DisablePublicReport(ctx, c.Param("id"), actor); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/governance?done=report_withdrawn")
	}
	if _, err := s.governance.EnablePublicReport(ctx, c.Param("id"), actor); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/governance?done=report_published")
}

type accessReportView struct {
	Entries  []governance.AccessEntry
	From, To string
	Actor    string
}

// accessFilter reads the report's filters: dates (YYYY-MM-DD, the
// member's zone) and an actor.
func (s *Dashboard) accessFilter(c echo.Context) (governance.AccessFilter, accessReportView, error) {
	v := accessReportView{From: c.QueryParam("from"), To: c.QueryParam("to"), Actor: c.QueryParam("actor")}
	f := governance.AccessFilter{Actor: v.Actor}
	zone, err := time.LoadLocation(member(c).TimeZone)
	if err != nil {
		zone = time.UTC
	}
	for _, d := range []struct {
		text string
		dst  *time.Time
		add  time.Duration
	}{{v.From, &f.From, 0}, {v.To, &f.To, 24*time.Hour - time.Nanosecond}} {
		if d.text == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", d.text, zone)
		if err != nil {
			return f, v, handover.Errorf(handover.EINVALID, "Dates are YYYY-MM-DD.")
		}
		*d.dst = t.Add(d.add).UTC()
	}
	return f, v, nil
}

func (s *Dashboard) handleAccessReportPage(c echo.Context) error {
	f, v, err := s.accessFilter(c)
	if err != nil {
		return err
	}
	if v.Entries, err = s.governance.AccessReport(c.Request().Context(), f); err != nil {
		return err
	}
	if err := s.recordAccess(c, "access_report.read", "audit", "", fmt.Sprintf("entries=%d", len(v.Entries))); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "access_report", &page{Title: "gov.access_report", Nav: "governance", Data: v})
}

func (s *Dashboard) handleAccessReportCSV(c echo.Context) error {
	f, _, err := s.accessFilter(c)
	if err != nil {
		return err
	}
	entries, err := s.governance.AccessReport(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if err := s.recordAccess(c, "access_report.read", "audit", "", fmt.Sprintf("entries=%d csv", len(entries))); err != nil {
		return err
	}
	kit.SetAttachment(c, "access-report.csv")
	return governance.WriteAccessCSV(c.Response(), entries)
}
