package lifecycle

import (
	"bytes"
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

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
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
}).Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>销毁报告 Destruction report {{.Plan.ID}}</title>
<style>body{font:14px/1.5 sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.3em .6em;text-align:left}.fail{color:#b00;font-weight:bold}</style></head>
<body>
<h1>个人信息销毁报告 / Personal information destruction report</h1>
<p>{{if .Verified}}验证通过 / Verified.{{else}}<span class="fail">验证未通过 / VERIFICATION FAILED.</span>{{end}}</p>
<table>
<tr><th>计划 Plan</th><td>{{.Plan.ID}}</td></tr>
<tr><th>转让 Transfer</th><td>{{.Plan.TransferID}}</td></tr>
<tr><th>保留期 Retention</th><td>生效日后 {{.Plan.RetentionDays}} 天 / {{.Plan.RetentionDays}} days after the effective date (due {{.Plan.DueAt.Format "2006-01-02"}})</td></tr>
<tr><th>申请 Requested</th><td>{{.Plan.RequestedBy}}, {{.Plan.RequestedAt.Format "2006-01-02 15:04:05 UTC"}}</td></tr>
<tr><th>批准 Approved</th><td>{{.Plan.ApprovedBy}}, {{when .Plan.ApprovedAt}}</td></tr>
<tr><th>执行 Run</th><td>{{.Plan.StartedBy}}, {{when .Plan.StartedAt}} – {{when .Plan.CompletedAt}}</td></tr>
<tr><th>销毁客户数 Customers destroyed</th><td>{{.Plan.DestroyedCount}}</td></tr>
<tr><th>方法 Method</th><td>{{.Method}}</td></tr>
<tr><th>保留 Kept</th><td>同意记录 {{.ConsentEventsKept}} 条（不含个人信息）/ {{.ConsentEventsKept}} consent events without personal data; the audit log</td></tr>
</table>
<h2>验证 Verification</h2>
<table>
<tr><th>剩余客户 Customers left</th><td>{{.CustomersLeft}}</td></tr>
<tr><th>剩余数据密钥 Data keys left</th><td>{{.KeysLeft}}</td></tr>
<tr><th>审计链 Audit chain</th><td>{{yes .AuditOK}} (head {{.AuditHead}})</td></tr>
</table>
<h3>密钥库 Key store ({{.Engine}})</h3>
<table><tr><th>检查 Check</th><th>结果 Result</th></tr>
{{range .KeyStore}}<tr><td>{{.What}}</td><td>{{yes .OK}}</td></tr>
{{end}}</table>
<h3>抽样 Sample</h3>
<table><tr><th>customer</th><th>row deleted</th><th>data key deleted</th><th>former key searched for in the key-store files</th></tr>
{{range .Sample}}<tr><td>{{.ID}}</td><td>{{yes .RowGone}}</td><td>{{yes .KeyGone}}</td><td>{{if .Scanned}}{{if .NotInFiles}}not found{{else}}<span class="fail">FOUND</span>{{end}}{{else}}— (not searched one by one; see the key store checks){{end}}</td></tr>
{{end}}</table>
<h3>未涵盖 Not covered by this report</h3>
<p>{{.NotCovered}}</p>
<p><small>Generated {{.GeneratedAt.Format "2006-01-02 15:04:05 UTC"}} by Handover.</small></p>
</body></html>
`))

// HTML renders the report.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	err := reportTemplate.Execute(&b, r)
	return b.Bytes(), err
}
