package lifecycle

import (
	"bytes"
	"embed"
	"html/template"
	"time"
)

// Report is a destruction report: what was destroyed, how many, when, by
// whom, by which method, and how it was verified.
type Report struct {
	Plan Plan
	// Engine is the database the run destroyed in: sqlite or postgres.
	Engine string
	Method string
	// NotCovered is what the run cannot reach (backups, the WAL, disks).
	NotCovered        string
	GeneratedAt       time.Time
	CustomersLeft     int
	KeysLeft          int
	ConsentEventsKept int
	Sample            []*sampled
	// KeyStore are the checks of what the engine keeps of deleted keys.
	KeyStore  []Check
	AuditOK   bool
	AuditHead string
	Verified  bool
}

//go:embed report.html
var reportFile embed.FS

var reportTemplate = template.Must(template.New("report.html").Funcs(template.FuncMap{
	"when": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05 UTC")
	},
	"yes": func(b bool) string {
		if b {
			return "✔ 是 yes"
		}
		return "✘ 否 NO"
	},
}).ParseFS(reportFile, "report.html"))

// HTML renders the report.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	err := reportTemplate.Execute(&b, r)
	return b.Bytes(), err
}
