package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerGovernanceRoutes: the confidentiality agreement and training.
// Reading and accepting need no permission: a blocked member must be able
// to unblock themselves.
func (s *API) registerGovernanceRoutes(g *echo.Group) {
	g.GET("/agreement", s.handleAgreementView)
	g.POST("/agreement/accept", s.handleAgreementAccept)
	g.POST("/agreements", s.handleAgreementPublish, s.auth.Can(staff.ManageGovernance))
	g.GET("/training", s.handleTrainingDue)
	g.POST("/training/modules", s.handleTrainingCreate, s.auth.Can(staff.ManageGovernance))
	g.POST("/training/modules/:id/retire", s.handleTrainingRetire, s.auth.Can(staff.ManageGovernance))
	g.POST("/training/modules/:id/attempts", s.handleTrainingAttempt)
	g.GET("/training/results", s.handleTrainingResults, s.auth.Can(staff.ReadAudit))
}

type agreementJSON struct {
	Version     int64     `json:"version"`
	TextZH      string    `json:"text_zh"`
	TextEN      string    `json:"text_en"`
	Hash        string    `json:"hash"`
	PublishedAt time.Time `json:"published_at"`
}

func toAgreementJSON(a *governance.Agreement) agreementJSON {
	return agreementJSON{Version: a.Version, TextZH: a.TextZH, TextEN: a.TextEN, Hash: a.Hash, PublishedAt: a.PublishedAt}
}

// handleAgreementView shows the current agreement and whether the caller
// may see customer data now.
func (s *API) handleAgreementView(c echo.Context) error {
	a, err := s.governance.CurrentAgreement(c.Request().Context())
	if err != nil {
		return err
	}
	access := s.governance.CheckAccess(c.Request().Context(), kit.Member(c))
	return c.JSON(http.StatusOK, map[string]any{"agreement": toAgreementJSON(a), "access_granted": access == nil})
}

// handleAgreementAccept records acceptance of the version the caller read.
func (s *API) handleAgreementAccept(c echo.Context) error {
	var req struct {
		Hash string `json:"hash"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if err := s.governance.AcceptAgreement(c.Request().Context(), kit.Member(c), req.Hash, c.RealIP()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleAgreementPublish publishes a new version (admins).
func (s *API) handleAgreementPublish(c echo.Context) error {
	var req agreementJSON
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	a, err := s.governance.PublishAgreement(c.Request().Context(), req.TextZH, req.TextEN, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAgreementJSON(a))
}

// trainingJSON is a module as staff take it: the answers stay server-side.
type trainingJSON struct {
	ID         string   `json:"id"`
	Role       string   `json:"role"`
	Title      string   `json:"title"`
	Body       string   `json:"body"`
	Questions  []qnJSON `json:"questions"`
	PassScore  int      `json:"pass_score"`
	PeriodDays int      `json:"period_days"`
}

type qnJSON struct {
	Q       string   `json:"q"`
	Options []string `json:"options"`
	Answer  *int     `json:"answer,omitempty"`
}

func toTrainingJSON(m *governance.Module) trainingJSON {
	out := trainingJSON{ID: m.ID, Role: string(m.Role), Title: m.Title, Body: m.Body, PassScore: m.PassScore, PeriodDays: m.PeriodDays}
	for _, q := range m.Questions {
		out.Questions = append(out.Questions, qnJSON{Q: q.Q, Options: q.Options})
	}
	return out
}

// handleTrainingDue lists the modules the caller must pass.
func (s *API) handleTrainingDue(c echo.Context) error {
	due, err := s.governance.DueTraining(c.Request().Context(), kit.Member(c))
	if err != nil {
		return err
	}
	out := []trainingJSON{}
	for _, m := range due {
		out = append(out, toTrainingJSON(m))
	}
	return c.JSON(http.StatusOK, map[string]any{"due": out})
}

// handleTrainingCreate attaches a module to a role (admins).
func (s *API) handleTrainingCreate(c echo.Context) error {
	var req trainingJSON
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	m := &governance.Module{Role: staff.Role(req.Role), Title: req.Title, Body: req.Body, PassScore: req.PassScore, PeriodDays: req.PeriodDays}
	for _, q := range req.Questions {
		answer := -1
		if q.Answer != nil {
			answer = *q.Answer
		}
		m.Questions = append(m.Questions, governance.Question{Q: q.Q, Options: q.Options, Answer: answer})
	}
	if err := s.governance.CreateModule(c.Request().Context(), m, kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toTrainingJSON(m))
}

// handleTrainingRetire stops requiring a module (admins).
func (s *API) handleTrainingRetire(c echo.Context) error {
	if err := s.governance.RetireModule(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleTrainingAttempt scores the caller's answers.
func (s *API) handleTrainingAttempt(c echo.Context) error {
	var req struct {
		Answers []int `json:"answers"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	r, err := s.governance.TakeTraining(c.Request().Context(), kit.Member(c), c.Param("id"), req.Answers)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"score": r.Score, "passed": r.Passed, "taken_at": r.TakenAt})
}

// handleTrainingResults lists attempts for auditors.
func (s *API) handleTrainingResults(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	results, next, err := s.governance.TrainingResultPage(c.Request().Context(), c.QueryParam("staff_id"), cursor, limit)
	if err != nil {
		return err
	}
	out := []map[string]any{}
	for _, r := range results {
		out = append(out, map[string]any{"id": r.ID, "module_id": r.ModuleID, "staff_id": r.StaffID, "score": r.Score, "passed": r.Passed, "taken_at": r.TakenAt})
	}
	return listJSON(c, out, next)
}
