package public

import (
	"bytes"
	"embed"
	"html/template"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/incidents"
)

//go:embed reports
var reportViews embed.FS

// reportPages are documents staff print or file: the regulator's report.
var reportPages = template.Must(template.ParseFS(reportViews, "reports/*.html"))

// IncidentReport renders the regulator's report of an incident and sets
// the headers a printable document needs.
func IncidentReport(c echo.Context, store *incidents.Store, id string) ([]byte, error) {
	in, err := store.FindIncidentByID(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := reportPages.ExecuteTemplate(&buf, "incident.html", map[string]any{"I": in, "GeneratedAt": time.Now().UTC()}); err != nil {
		return nil, err
	}
	c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return buf.Bytes(), nil
}
