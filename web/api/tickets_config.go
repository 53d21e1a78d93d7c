package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerTicketConfigRoutes serves the classification rules and canned
// replies: staff who read tickets may list them, admins edit them.
func (s *API) registerTicketConfigRoutes(g *echo.Group) {
	g.GET("/ticket-rules", s.handleRuleList, s.auth.Can(staff.ReadTickets))
	g.POST("/ticket-rules", s.handleRuleSave, s.auth.Can(staff.ConfigureTickets))
	g.PUT("/ticket-rules/:id", s.handleRuleSave, s.auth.Can(staff.ConfigureTickets))
	g.DELETE("/ticket-rules/:id", s.handleRuleDelete, s.auth.Can(staff.ConfigureTickets))
	g.GET("/canned-replies", s.handleCannedList, s.auth.Can(staff.ReadTickets))
	g.POST("/canned-replies", s.handleCannedSave, s.auth.Can(staff.ConfigureTickets))
	g.PUT("/canned-replies/:id", s.handleCannedSave, s.auth.Can(staff.ConfigureTickets))
	g.DELETE("/canned-replies/:id", s.handleCannedDelete, s.auth.Can(staff.ConfigureTickets))
}

type ruleJSON struct {
	ID       string   `json:"id"`
	Ordinal  int      `json:"ordinal"`
	Name     string   `json:"name"`
	Keywords []string `json:"keywords"`
	Match    string   `json:"match"`
	Action   string   `json:"action"`
	Category string   `json:"category,omitempty"`
	Priority string   `json:"priority,omitempty"`
	Decision string   `json:"decision,omitempty"`
	Enabled  *bool    `json:"enabled,omitempty"`
}

func toRuleJSON(r *feedback.Rule) ruleJSON {
	enabled := r.Enabled
	return ruleJSON{ID: r.ID, Ordinal: r.Ordinal, Name: r.Name, Keywords: r.Keywords, Match: r.Match, Action: r.Action,
		Category: r.Category, Priority: r.Priority, Decision: r.Decision, Enabled: &enabled}
}

// handleRuleList lists the rules in the order they run.
func (s *API) handleRuleList(c echo.Context) error {
	rules, err := s.tickets.FindRules(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]ruleJSON, len(rules))
	for i := range rules {
		out[i] = toRuleJSON(&rules[i])
	}
	return listJSON(c, out, "") // every rule, in the order they run
}

// handleRuleSave creates (POST) or replaces (PUT) a rule.
func (s *API) handleRuleSave(c echo.Context) error {
	var req ruleJSON
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	r := &feedback.Rule{ID: c.Param("id"), Ordinal: req.Ordinal, Name: req.Name, Keywords: req.Keywords, Match: req.Match,
		Action: req.Action, Category: req.Category, Priority: req.Priority, Decision: req.Decision, Enabled: req.Enabled == nil || *req.Enabled}
	if err := s.tickets.SaveRule(c.Request().Context(), r, kit.Member(c).Actor()); err != nil {
		return err
	}
	status := http.StatusOK
	if c.Param("id") == "" {
		status = http.StatusCreated
	}
	return c.JSON(status, toRuleJSON(r))
}

// handleRuleDelete deletes a rule.
func (s *API) handleRuleDelete(c echo.Context) error {
	if err := s.tickets.DeleteRule(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type cannedJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	CreatedBy string    `json:"created_by,omitempty"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// handleCannedList lists canned replies by name, with the variables they may use.
func (s *API) handleCannedList(c echo.Context) error {
	list, err := s.tickets.FindCannedReplies(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]cannedJSON, len(list))
	for i, cr := range list {
		out[i] = cannedJSON{ID: cr.ID, Name: cr.Name, Body: cr.Body, CreatedBy: cr.CreatedBy, CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "next_cursor": "", "variables": feedback.Variables})
}

// handleCannedSave creates (POST) or replaces (PUT) a canned reply.
func (s *API) handleCannedSave(c echo.Context) error {
	var req struct {
		Name string `json:"name"`
		Body string `json:"body"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cr := &feedback.CannedReply{ID: c.Param("id"), Name: req.Name, Body: req.Body}
	if err := s.tickets.SaveCannedReply(c.Request().Context(), cr, kit.Member(c).Actor()); err != nil {
		return err
	}
	status := http.StatusOK
	if c.Param("id") == "" {
		status = http.StatusCreated
	}
	return c.JSON(status, cannedJSON{ID: cr.ID, Name: cr.Name, Body: cr.Body, CreatedBy: cr.CreatedBy, CreatedAt: cr.CreatedAt, UpdatedAt: cr.UpdatedAt})
}

// handleCannedDelete deletes a canned reply.
func (s *API) handleCannedDelete(c echo.Context) error {
	if err := s.tickets.DeleteCannedReply(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
