package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

// registerDestructionPages: an admin requests the destruction of the
// seller's copy; an auditor other than the requester approves it after
// signing in again (password, and code when enrolled), as the CLI asks;
// an admin runs it after typing the seller's name; auditors and admins
// follow its progress and read its report.
func (s *Dashboard) registerDestructionPages() {
	s.pageRoute(http.MethodGet, "/destruction", s.handleDestructionPlansPage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/destruction", s.handleDestructionRequestPage, staff.RequestDestruction)
	s.pageRoute(http.MethodGet, "/destruction/:id", s.handleDestructionPlanPage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/destruction/:id/approve", s.handleDestructionApprovePage, staff.ApproveDestruction)
	s.pageRoute(http.MethodPost, "/destruction/:id/run", s.handleDestructionRunPage, staff.RequestDestruction)
	s.pageRoute(http.MethodPost, "/destruction/:id/cancel", s.handleDestructionCancelPage, staff.ReadAudit)
	s.pageRoute(http.MethodGet, "/destruction/:id/report", s.handleDestructionReportPage, staff.ReadAudit)
}

type destructionPlansView struct {
	Transfers []*transfers.Transfer
	Transfer  *transfers.Transfer
	Plans     []*lifecycle.Plan
	Names     map[string]string
	Days      string
	Error     string
}

func (s *Dashboard) destructionPlansPage(c echo.Context, status int, transferID string, v destructionPlansView) error {
	var err error
	if v.Transfers, v.Transfer, err = s.pickTransfer(c, transferID); err != nil {
		return err
	}
	if v.Transfer != nil {
		if v.Plans, err = s.destroyer().FindPlans(c.Request().Context(), v.Transfer.ID); err != nil {
			return err
		}
		if v.Days == "" {
			v.Days = strconv.Itoa(v.Transfer.RetentionDays)
		}
	}
	if v.Names, err = s.actorNames(c); err != nil {
		return err
	}
	return s.render(c, status, "destruction", &page{Title: "destruction.title", Nav: "compliance", Data: v})
}

func (s *Dashboard) handleDestructionPlansPage(c echo.Context) error {
	return s.destructionPlansPage(c, http.StatusOK, c.QueryParam("transfer"), destructionPlansView{})
}

// destroyer is the destruction service (Deps.Destroyer).
func (s *Dashboard) destroyer() *lifecycle.Destroyer { return s.destroy }

// handleDestructionRequestPage plans the destruction retention_days after
// the effective date.
func (s *Dashboard) handleDestructionRequestPage(c echo.Context) error {
	transfer, daysText := c.FormValue("transfer_id"), strings.TrimSpace(c.FormValue("retention_days"))
	fail := func(status int, msg string) error {
		return s.destructionPlansPage(c, status, transfer, destructionPlansView{Days: daysText, Error: msg})
	}
	days, err := strconv.Atoi(daysText)
	if err != nil {
		return fail(http.StatusBadRequest, formText(c, "cerr.retention"))
	}
	p, err := s.destroyer().RequestDestruction(c.Request().Context(), transfer, days, member(c))
	if err != nil {
		return formFailed(c, err, fail)
	}
	return c.Redirect(http.StatusSeeOther, "/destruction/"+p.ID+"?done=destruction_requested")
}

type destructionPlanView struct {
	Plan     *lifecycle.Plan
	Transfer *transfers.Transfer
	Names    map[string]string
	// Remaining customers while the plan runs; Percent done.
	Remaining int64
	Percent   int
	Due       bool
	TOTP      bool
	// Errors of the approve and run forms.
	ApproveError, RunError string
}

func (s *Dashboard) destructionPlanPage(c echo.Context, status int, v destructionPlanView) error {
	ctx, d := c.Request().Context(), s.destroyer()
	var err error
	if v.Plan, err = d.FindPlanByID(ctx, c.Param("id")); err != nil {
		return err
	}
	if v.Transfer, err = s.transfers.FindTransferByID(ctx, v.Plan.TransferID); err != nil {
		return err
	}
	if v.Names, err = s.actorNames(c); err != nil {
		return err
	}
	if v.Plan.Status == lifecycle.PlanRunning {
		if v.Remaining, err = d.Remaining(ctx); err != nil {
			return err
		}
		if total := v.Remaining + v.Plan.DestroyedCount; total > 0 {
			v.Percent = int(v.Plan.DestroyedCount * 100 / total)
		}
		// The page follows the run without script.
		c.Response().Header().Set("Refresh", "2")
	}
	v.Due = !time.Now().Before(v.Plan.DueAt)
	if v.TOTP, err = s.staff.TOTPEnabled(ctx, member(c).ID); err != nil {
		return err
	}
	return s.render(c, status, "destruction_plan", &page{Title: "destruction.plan", Nav: "compliance", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleDestructionPlanPage(c echo.Context) error {
	return s.destructionPlanPage(c, http.StatusOK, destructionPlanView{})
}

// handleDestructionApprovePage is the auditor's approval. Like `handover
// destroy approve`, it asks the auditor to prove it is them again: their
// password, and their authenticator code when enrolled, checked (and
// throttled and audited) as a sign-in is; the session it would start is
// ended at once.
func (s *Dashboard) handleDestructionApprovePage(c echo.Context) error {
	ctx, m := c.Request().Context(), member(c)
	fail := func(status int, msg string) error {
		return s.destructionPlanPage(c, status, destructionPlanView{ApproveError: msg})
	}
	sess, who, err := s.staff.Login(ctx, staff.LoginInput{Email: m.Email, Password: c.FormValue("password"), Code: c.FormValue("code"),
		IP: c.RealIP()}, s.sessionPolicy())
	if err != nil {
		return formFailed(c, err, fail)
	}
	if err := s.staff.EndSession(ctx, sess.Token); err != nil {
		return err
	}
	if who.ID != m.ID {
		return fail(http.StatusUnauthorized, formText(c, "cerr.reauth"))
	}
	if _, err := s.destroyer().ApproveDestruction(ctx, c.Param("id"), who); err != nil {
		return formFailed(c, err, fail)
	}
	return c.Redirect(http.StatusSeeOther, "/destruction/"+c.Param("id")+"?done=destruction_approved")
}

// runWait is how long the run form waits for a run to start, or fail
// before starting, before it shows the plan's progress.
const runWait = 3 * time.Second

// handleDestructionRunPage runs an approved, due plan once the admin typed
// the seller's name. The run goes on in the background, beyond the
// request, while the plan's page shows its progress; should the server
// stop midway, the hourly job resumes the running plan.
func (s *Dashboard) handleDestructionRunPage(c echo.Context) error {
	ctx, d, id := c.Request().Context(), s.destroyer(), c.Param("id")
	fail := func(status int, msg string) error {
		return s.destructionPlanPage(c, status, destructionPlanView{RunError: msg})
	}
	p, err := d.FindPlanByID(ctx, id)
	if err != nil {
		return err
	}
	t, err := s.transfers.FindTransferByID(ctx, p.TransferID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(c.FormValue("confirm")) != t.SellerName {
		return fail(http.StatusBadRequest, formText(c, "cerr.destruction_confirm"))
	}
	type outcome struct {
		r   *lifecycle.Report
		err error
	}
	done := make(chan outcome, 1)
	actor := member(c).Actor()
	go func() {
		r, err := d.RunDestruction(context.WithoutCancel(ctx), id, actor)
		if err != nil {
			s.log.Error("destruction run", "plan", id, "err", err)
		}
		done <- outcome{r, err}
	}()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(runWait)
	for {
		select {
		case o := <-done:
			if o.err != nil && o.r == nil {
				return formFailed(c, o.err, fail)
			}
			return c.Redirect(http.StatusSeeOther, "/destruction/"+id+"?done=destruction_ran")
		case <-tick.C:
			if cur, err := d.FindPlanByID(ctx, id); err == nil && cur.Status == lifecycle.PlanRunning {
				return c.Redirect(http.StatusSeeOther, "/destruction/"+id)
			}
		case <-deadline:
			return c.Redirect(http.StatusSeeOther, "/destruction/"+id)
		}
	}
}

// handleDestructionCancelPage withdraws a plan that has not started.
func (s *Dashboard) handleDestructionCancelPage(c echo.Context) error {
	if err := s.destroyer().CancelDestruction(c.Request().Context(), c.Param("id"), member(c)); err != nil {
		return formFailed(c, err, func(status int, msg string) error {
			return s.destructionPlanPage(c, status, destructionPlanView{RunError: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/destruction/"+c.Param("id")+"?done=destruction_cancelled")
}

// handleDestructionReportPage shows the stored report; ?download=1 saves
// it as a file.
func (s *Dashboard) handleDestructionReportPage(c echo.Context) error {
	html, err := s.destroyer().Report(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	if c.QueryParam("download") == "1" {
		h.Set(echo.HeaderContentDisposition, `attachment; filename="destruction-`+url.PathEscape(c.Param("id"))+`.html"`)
	}
	return c.HTMLBlob(http.StatusOK, html)
}
