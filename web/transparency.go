package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

//go:embed views/public
var publicViews embed.FS

// publicPages are the pages anyone may read: no personal data, no forms.
var publicPages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
}).ParseFS(publicViews, "views/public/*.html"))

// transparencyCSP lets the report page load only its own stylesheet.
const transparencyCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// registerTransparencyRoutes: admins publish or withdraw a transfer's
// information-protection report; anyone reads it at /transparency/{slug}.
func (s *Server) registerTransparencyRoutes(g *echo.Group) {
	g.POST("/transfers/:id/public-report", s.handlePublicReportEnable, s.can(staff.ManageGovernance))
	g.DELETE("/transfers/:id/public-report", s.handlePublicReportDisable, s.can(staff.ManageGovernance))
	s.echo.GET("/transparency/report.css", s.handleTransparencyCSS)
	s.echo.GET("/transparency/:slug", s.handlePublicReport)
}

func (s *Server) handlePublicReportEnable(c echo.Context) error {
	slug, err := s.governance.EnablePublicReport(c.Request().Context(), c.Param("id"), member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]string{"slug": slug, "url": s.cfg.PublicURL + "/transparency/" + slug})
}

func (s *Server) handlePublicReportDisable(c echo.Context) error {
	if err := s.governance.DisablePublicReport(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handlePublicReport renders the report in Chinese, or English with
// ?lang=en; an unknown slug is a plain 404 page.
func (s *Server) handlePublicReport(c echo.Context) error {
	lang := "zh-CN"
	if strings.HasPrefix(c.QueryParam("lang"), "en") {
		lang = "en"
	}
	c.Response().Header().Set("Content-Security-Policy", transparencyCSP)
	r, err := s.governance.FindPublicReport(c.Request().Context(), c.Param("slug"))
	status, page := http.StatusOK, "report.html"
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		status, page = http.StatusNotFound, "notfound.html"
	} else if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := publicPages.ExecuteTemplate(&buf, page, map[string]any{"R": r, "EN": lang == "en", "Lang": lang}); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=300")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) handleTransparencyCSS(c echo.Context) error {
	css, err := publicViews.ReadFile("views/public/report.css")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
}
