// Package public serves what anyone may read, with no personal data and no
// forms: a transfer's information-protection report at
// /transparency/{slug}; and renders the documents staff print or file, such
// as the regulator's report of an incident.
package public

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/governance"
)

//go:embed views
var publicViews embed.FS

// publicPages are the pages anyone may read: no personal data, no forms.
var publicPages = template.Must(template.New("").Funcs(template.FuncMap{
	"join": strings.Join,
}).ParseFS(publicViews, "views/*.html"))

// transparencyCSP lets the report page load only its own stylesheet.
const transparencyCSP = "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Public serves the pages anyone may read.
type Public struct {
	governance *governance.Service
}

// New serves the reports gov keeps.
func New(gov *governance.Service) *Public { return &Public{governance: gov} }

// Register adds the public routes to e: anyone reads a transfer's
// information-protection report at /transparency/{slug}.
func (s *Public) Register(e *echo.Echo) {
	e.GET("/transparency/report.css", s.handleTransparencyCSS)
	e.GET("/transparency/:slug", s.handlePublicReport)
}

// handlePublicReport renders the report in Chinese, or English with
// ?lang=en; an unknown slug is a plain 404 page.
func (s *Public) handlePublicReport(c echo.Context) error {
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

func (s *Public) handleTransparencyCSS(c echo.Context) error {
	css, err := publicViews.ReadFile("views/report.css")
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", css)
}
