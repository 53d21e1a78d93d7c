package dashboard

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
)

// registerTrainingAdminPages: admins create and retire training modules
// and publish agreement versions (after a confirmation step); admins and
// auditors read the results: attempts, and who accepted the current
// agreement.
func (s *Dashboard) registerTrainingAdminPages() {
	s.pageRoute(http.MethodGet, "/governance/training", s.handleTrainingAdminPage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/governance/training", s.handleTrainingCreatePage, staff.ManageGovernance)
	s.pageRoute(http.MethodGet, "/governance/training/:id/retire", s.handleTrainingRetireConfirmPage, staff.ManageGovernance)
	s.pageRoute(http.MethodPost, "/governance/training/:id/retire", s.handleTrainingRetirePage, staff.ManageGovernance)
	s.pageRoute(http.MethodGet, "/governance/agreements", s.handleAgreementsPage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/governance/agreements/confirm", s.handleAgreementConfirmPage, staff.ManageGovernance)
}

// questionSlots is how many questions the create form offers.
const questionSlots = 5

// trainingForm is the create form's values, kept when shown again.
type trainingForm struct {
	Role, Title, Body, PassScore, PeriodDays string
	Questions                                []questionForm
}

type questionForm struct {
	Q, Options, Answer string
}

type trainingResult struct {
	governance.Result
	Module string
	Member string
}

type trainingAdminView struct {
	Roles   []staff.Role
	Modules map[staff.Role][]*governance.Module
	Results []trainingResult
	Form    trainingForm
	Error   string
}

var staffRoles = []staff.Role{staff.Admin, staff.Agent, staff.Marketer, staff.Auditor}

func (s *Dashboard) trainingAdminPage(c echo.Context, status int, v trainingAdminView) error {
	ctx := c.Request().Context()
	v.Roles, v.Modules = staffRoles, map[staff.Role][]*governance.Module{}
	titles := map[string]string{}
	for _, r := range staffRoles {
		list, err := s.governance.ModulesFor(ctx, r)
		if err != nil {
			return err
		}
		v.Modules[r] = list
		for _, m := range list {
			titles[m.ID] = m.Title
		}
	}
	results, err := s.governance.TrainingResults(ctx, "")
	if err != nil {
		return err
	}
	names, err := s.actorNames(c)
	if err != nil {
		return err
	}
	for _, r := range results {
		title, ok := titles[r.ModuleID]
		if !ok {
			if m, err := s.governance.FindModuleByID(ctx, r.ModuleID); err == nil {
				title, titles[r.ModuleID] = m.Title, m.Title
			}
		}
		v.Results = append(v.Results, trainingResult{Result: r, Module: title, Member: names["staff:"+r.StaffID]})
	}
	if len(v.Form.Questions) == 0 {
		v.Form.Questions = make([]questionForm, questionSlots)
		v.Form.PassScore, v.Form.PeriodDays = "80", "365"
	}
	return s.render(c, status, "training_admin", &page{Title: "training.title", Nav: "compliance", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleTrainingAdminPage(c echo.Context) error {
	return s.trainingAdminPage(c, http.StatusOK, trainingAdminView{})
}

// handleTrainingCreatePage creates a module from the form: up to
// questionSlots questions, each with its options one a line and the
// number (from 1) of the right one; empty slots are skipped.
func (s *Dashboard) handleTrainingCreatePage(c echo.Context) error {
	f := trainingForm{Role: c.FormValue("role"), Title: c.FormValue("title"), Body: c.FormValue("body"),
		PassScore: c.FormValue("pass_score"), PeriodDays: c.FormValue("period_days")}
	for i := range questionSlots {
		f.Questions = append(f.Questions, questionForm{Q: c.FormValue(fmt.Sprintf("q%d", i)),
			Options: c.FormValue(fmt.Sprintf("q%d_options", i)), Answer: c.FormValue(fmt.Sprintf("q%d_answer", i))})
	}
	fail := func(status int, msg string) error {
		return s.trainingAdminPage(c, status, trainingAdminView{Form: f, Error: msg})
	}
	mod, err := parseTrainingForm(f)
	if err != nil {
		return fail(http.StatusBadRequest, complianceErrorText(member(c).Locale, err))
	}
	if err := s.governance.CreateModule(c.Request().Context(), mod, member(c).Actor()); err != nil {
		return formFailed(c, err, fail)
	}
	return c.Redirect(http.StatusSeeOther, "/governance/training?done=training_created")
}

// parseTrainingForm reads the form into a module; the domain validates
// the rest.
func parseTrainingForm(f trainingForm) (*governance.Module, error) {
	m := &governance.Module{Role: staff.Role(f.Role), Title: f.Title, Body: f.Body}
	for _, n := range []struct {
		text string
		dst  *int
	}{{f.PassScore, &m.PassScore}, {f.PeriodDays, &m.PeriodDays}} {
		if strings.TrimSpace(n.text) == "" {
			continue
		}
		v, err := strconv.Atoi(strings.TrimSpace(n.text))
		if err != nil {
			return nil, handover.Errorf(handover.EINVALID, "Pass score and period are whole numbers.")
		}
		*n.dst = v
	}
	for i, q := range f.Questions {
		if strings.TrimSpace(q.Q) == "" && strings.TrimSpace(q.Options) == "" {
			continue
		}
		var options []string
		for _, o := range strings.Split(q.Options, "\n") {
			if o = strings.TrimSpace(o); o != "" {
				options = append(options, o)
			}
		}
		answer, err := strconv.Atoi(strings.TrimSpace(q.Answer))
		if err != nil {
			return nil, handover.Errorf(handover.EINVALID, "Question %d needs its text, at least two options and the index of the right one.", i+1)
		}
		m.Questions = append(m.Questions, governance.Question{Q: q.Q, Options: options, Answer: answer - 1})
	}
	return m, nil
}

type retireView struct {
	Module *governance.Module
	Error  string
}

// handleTrainingRetireConfirmPage asks before a module stops being
// required.
func (s *Dashboard) handleTrainingRetireConfirmPage(c echo.Context) error {
	m, err := s.governance.FindModuleByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "training_retire", &page{Title: "training.retire", Nav: "compliance", Data: retireView{Module: m}})
}

func (s *Dashboard) handleTrainingRetirePage(c echo.Context) error {
	if err := s.governance.RetireModule(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return formFailed(c, err, func(status int, msg string) error {
			return s.trainingAdminPage(c, status, trainingAdminView{Error: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/governance/training?done=training_retired")
}

type acceptanceRow struct {
	Member     *staff.Member
	AcceptedAt time.Time
}

type agreementsView struct {
	Agreement *governance.Agreement
	Rows      []acceptanceRow
	Accepted  int
	// Draft is a new version's texts on the confirmation step.
	Draft struct{ TextZH, TextEN string }
	Error string
}

func (s *Dashboard) agreementsPage(c echo.Context, status int, name string, v agreementsView) error {
	ctx := c.Request().Context()
	a, err := s.governance.CurrentAgreement(ctx)
	if err != nil && handover.ErrorCode(err) != handover.ENOTFOUND {
		return err
	}
	if v.Agreement = a; a != nil {
		accepted, err := s.governance.Acceptances(ctx, a.Version)
		if err != nil {
			return err
		}
		members, err := s.staff.FindMembers(ctx)
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.DisabledAt != nil {
				continue
			}
			v.Rows = append(v.Rows, acceptanceRow{Member: m, AcceptedAt: accepted[m.ID]})
			if !accepted[m.ID].IsZero() {
				v.Accepted++
			}
		}
	}
	return s.render(c, status, name, &page{Title: "agreements.title", Nav: "compliance", Data: v})
}

// handleAgreementsPage shows the current version and who accepted it.
func (s *Dashboard) handleAgreementsPage(c echo.Context) error {
	return s.agreementsPage(c, http.StatusOK, "agreements", agreementsView{})
}

// handleAgreementConfirmPage is the step before publishing: the new texts
// and what publishing does (everyone is blocked from customer data until
// they accept); its button posts to /governance/agreement.
func (s *Dashboard) handleAgreementConfirmPage(c echo.Context) error {
	v := agreementsView{}
	v.Draft.TextZH, v.Draft.TextEN = strings.TrimSpace(c.FormValue("text_zh")), strings.TrimSpace(c.FormValue("text_en"))
	if v.Draft.TextZH == "" || v.Draft.TextEN == "" {
		v.Error = formText(c, "cerr.agreement")
		return s.agreementsPage(c, http.StatusBadRequest, "agreements", v)
	}
	return s.agreementsPage(c, http.StatusOK, "agreement_confirm", v)
}
