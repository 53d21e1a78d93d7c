package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

func (s *Server) registerTemplatePages() {
	s.pageRoute(http.MethodGet, "/templates", s.handleTemplatesPage, staff.ReadTemplates)
}

// handleTemplatesPage lists the message templates (latest versions).
func (s *Server) handleTemplatesPage(c echo.Context) error {
	list, err := s.templates.FindTemplates(c.Request().Context(), templates.Filter{})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "templates", &page{Title: "nav.templates", Nav: "templates", Data: list})
}
