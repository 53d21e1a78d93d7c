package web_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/net/html"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/web"
)

// skippedPages are the dashboard and portal GET routes the language test
// does not read, each with the reason. Every other page is rendered in
// zh-CN and en; a new route the test cannot fill with data fails it until
// it gets data in seedLanguage or a line here.
var skippedPages = map[string]string{
	"GET /tickets/events":               "a server-sent event stream, not a page",
	"GET /campaigns/:id/progress":       "JSON numbers for the progress bar, not a page",
	"GET /access-report.csv":            "a CSV download, not a page",
	"GET /campaigns/:id/deliveries.csv": "a CSV download, not a page",
	"GET /l/:token/mydata/download":     "a JSON/CSV download of the customer's data, not a page",
	"GET /":                             "a redirect to the role's home page",
	"GET /incidents/:id/report":         "the regulator's report: one bilingual document (中文 / English) to file, as the API serves it",
	"GET /destruction/:id/report":       "the stored destruction report, a document kept as it was written",
	"GET /export/evidence":              "a JSON download of the export's audit entries, not a page",
}

// pendingPages are pages read and their problems listed, without failing
// the test: they are being rewritten on parallel branches (issue 15), and
// what they show in English comes from the parts being rewritten. Remove a
// line once its page is clean.
var pendingPages = map[string]string{}

// properNouns may stand in a zh-CN sentence as they are: names of products,
// formats and standards, never translated.
var properNouns = regexp.MustCompile(`\b(WeChat|Handover|SMS|CSV|JSON|API|URL|PIPL|IANA|UTC|GMT|TOTP|NPS|CSAT|Aliyun|HTTPS?|ID|OpenID|openid|otpauth|SLA|Asia/Shanghai|Europe/Berlin|age-keygen|handover token create|handover [a-z-]+|pg_dump|pg_restore|devbox|zh-CN|en|English)\b`)

// allowedSentences are the few English word runs a zh-CN page may show,
// each for a reason. Keep this tiny.
var allowedSentences = []string{}

var (
	englishRun = regexp.MustCompile(`[A-Za-z]{2,}(?:[ ,'’]+[A-Za-z]{2,})+`)
	han        = regexp.MustCompile(`\p{Han}`)
	word       = regexp.MustCompile(`[A-Za-z_]+`)
)

// statusCodes collects the codes the domain stores for states, decisions,
// reasons, kinds and channels (its string constants), which a page must
// word rather than show.
func statusCodes(t *testing.T) map[string]bool {
	t.Helper()
	codes := map[string]bool{"queued": true, "sent": true, "opened": true, "skipped": true, "delivered": true, "failed": true}
	kept := regexp.MustCompile(`^(Status|Reason|Consent|Correction|Import|Bind|Plan|Priority|Category|Stalled|WeChat(Bound|Queued|Refused)|Erasure)`)
	fset := token.NewFileSet()
	for _, dir := range []string{"campaigns", "customers", "feedback", "incidents", "lifecycle", "channels", "templates", "staff", "links", "assessments"} {
		files, _ := filepath.Glob(filepath.Join("..", dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				g, ok := d.(*ast.GenDecl)
				if !ok || g.Tok != token.CONST {
					continue
				}
				for _, spec := range g.Specs {
					vs := spec.(*ast.ValueSpec)
					typed := false
					if id, ok := vs.Type.(*ast.Ident); ok && (id.Name == "Kind" || id.Name == "Name" || id.Name == "Role") {
						typed = true
					}
					for i, name := range vs.Names {
						if i >= len(vs.Values) || !(typed || kept.MatchString(name.Name)) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							v, _ := strconv.Unquote(lit.Value)
							if regexp.MustCompile(`^[a-z]+(_[a-z]+)*$`).MatchString(v) && len(v) > 3 {
								codes[v] = true
							}
						}
					}
				}
			}
		}
	}
	if !codes["opted_out"] || !codes["consent_declined"] || !codes["granted"] || !codes["wechat"] {
		t.Fatalf("status codes not found: %v", codes)
	}
	return codes
}

// visibleText is what a reader sees of a page: its text and the words of
// title, placeholder, aria-label and alt attributes and of buttons, without
// scripts, styles, code, pre, input values, textareas and anything marked
// translate="no" (the customer's own data, a template's text).
func visibleText(lang, doc string) string {
	root, err := html.Parse(strings.NewReader(doc))
	if err != nil {
		return doc
	}
	var b strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "code", "pre", "textarea", "svg":
				return
			}
			for _, a := range n.Attr {
				// translate="no" marks data; lang another language's
				// words, such as the language switch.
				if a.Key == "translate" && a.Val == "no" || a.Key == "lang" && n.Data != "html" && locales.Lang(a.Val) != lang {
					return
				}
			}
			for _, a := range n.Attr {
				switch {
				case a.Key == "title" || a.Key == "placeholder" || a.Key == "aria-label" || a.Key == "alt":
					b.WriteString(" \n" + a.Val + "\n ")
				case a.Key == "value" && n.Data == "input" && (attr(n, "type") == "submit" || attr(n, "type") == "button"):
					b.WriteString(" \n" + a.Val + "\n ")
				}
			}
		}
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
		if n.Type == html.ElementNode {
			b.WriteString(" \n ")
		}
	}
	walk(root)
	return b.String()
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// languageProblems lists what a page in lang shows that its reader would
// not understand: English sentences on zh-CN pages, Chinese on en pages,
// raw codes, channel names and untranslated message keys. data are the
// seeded records' own words, which pages show as they are.
func languageProblems(lang, doc string, codes map[string]bool, data []string) []string {
	text := visibleText(lang, doc)
	for _, d := range data {
		text = strings.ReplaceAll(text, d, " ")
	}
	var out []string
	report := func(kind, s string) { out = append(out, fmt.Sprintf("%s %q", kind, s)) }
	// Message keys: a dotted word whose area is one of the catalog's.
	for _, m := range regexp.MustCompile(`\b[a-z][a-z_]*(\.[a-zA-Z_]+)+\b`).FindAllString(text, -1) {
		if locales.Has(lang, m) || keyAreas[m[:strings.Index(m, ".")]] {
			report("untranslated key", m)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if lang == locales.English {
			if han.MatchString(line) {
				report("Chinese text", line)
			}
		} else {
			bare := properNouns.ReplaceAllString(line, " ")
			for _, run := range englishRun.FindAllString(bare, -1) {
				if !allowed(run) {
					report("English sentence", run)
				}
			}
		}
		for _, loc := range word.FindAllStringIndex(line, -1) {
			w := line[loc[0]:loc[1]]
			// A code inside an address, a path or an identifier is not a
			// word on its own.
			if loc[0] > 0 && strings.ContainsRune("/.@:=-#", rune(line[loc[0]-1])) ||
				loc[1] < len(line) && strings.ContainsRune("/.@:=-#(", rune(line[loc[1]])) {
				continue
			}
			switch {
			case lang == locales.English && (w == "sms" || w == "wechat" || w == "devbox" || strings.Contains(w, "_") && codes[w]):
				report("raw code", w)
			case lang != locales.English && codes[w]:
				report("raw code", w)
			}
		}
	}
	return out
}

var keyAreas = func() map[string]bool {
	areas := map[string]bool{}
	for _, k := range locales.Keys(locales.English) {
		areas[k[:max(strings.Index(k, "."), 0)]] = true
	}
	delete(areas, "")
	return areas
}()

func allowed(run string) bool {
	for _, a := range allowedSentences {
		if strings.Contains(run, a) {
			return true
		}
	}
	return false
}

// languageSeed is what the pages show: a transfer with two customers, a
// finished campaign with its deliveries, a matched and an unmatched
// ticket, a pending correction, an incident, an impact assessment, and
// the ids routes name.
type languageSeed struct {
	ids   map[string]string // first path segment → an id for its :id
	token string            // a portal link
	// token2 is the other customer's link: each language asks for a
	// code once a minute per customer.
	token2 string
	data   []string // the records' own words
}

func seedLanguage(t *testing.T, a *app) languageSeed {
	t.Helper()
	ctx := context.Background()
	admin := a.tokenFor(staff.Admin)
	ids, transfer := a.seedPortal()
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	if err != nil || len(list) == 0 {
		t.Fatalf("template: %v", err)
	}
	campaign := a.runNoticeCampaign(admin, transfer, list[0].ID)
	ticket := a.inbound(channels.Devbox, ids[0], "", "请问新公司的电话是多少?")
	a.inbound(channels.SMS, "", "13700001111", "你们是谁?")
	a.correction(ids[1], "上海市浦东新区世纪大道100号")
	// An incident and an impact assessment, for the compliance pages.
	var incident, assessment struct{ ID string }
	if code := a.postJSON("/api/v1/incidents", admin, fmt.Sprintf(`{"title":"邮件误发","data_categories":["name","phone"],"cause":"员工误操作",
		"measures":"已撤回邮件","contact":"400-800-1234","occurred_at":"2026-11-01T10:00:00+08:00","discovered_at":"2026-11-01T12:00:00+08:00",
		"customer_ids":[%q]}`, ids[0]), &incident); code != http.StatusCreated {
		t.Fatalf("incident: %d", code)
	}
	if code := a.postJSON("/api/v1/assessments", admin, fmt.Sprintf(`{"transfer_id":%q,"activity":"campaign","purpose":"营销推广",
		"necessity":"告知客户业务转让","risks":"误发","measures":"发送前核对名单"}`, transfer), &assessment); code != http.StatusCreated {
		t.Fatalf("assessment: %d", code)
	}
	// A destruction plan and a training module (of a role the viewers do
	// not have), for the destruction and training pages.
	var plan struct{ ID string }
	if code := a.postJSON("/api/v1/transfers/"+transfer+"/destruction-plans", admin, `{"retention_days":0}`, &plan); code != http.StatusCreated {
		t.Fatalf("destruction plan: %d", code)
	}
	module := &governance.Module{Role: staff.Auditor, Title: "审计须知", Body: "只读。", PassScore: 100,
		Questions: []governance.Question{{Q: "能否修改记录？", Options: []string{"能", "不能"}, Answer: 1}}}
	if err := a.governance.CreateModule(ctx, module, "staff:test"); err != nil {
		t.Fatal(err)
	}
	token, _ := a.issue(ids[0], transfer)
	token2, _ := a.issue(ids[1], transfer)
	// The default templates' names are data too, in their own language.
	all, err := a.templates.FindTemplates(ctx, templates.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tm := range all {
		names = append(names, tm.Name)
	}
	return languageSeed{token2: token2,
		ids: map[string]string{"campaigns": campaign, "customers": ids[0], "tickets": ticket, "templates": list[0].ID, "transfers": transfer,
			"incidents": incident.ID, "assessments": assessment.ID, "destruction": plan.ID, "training": module.ID},
		token: token,
		data: append([]string{"张三", "张*", "李四", "李*", "华东五金", "江南商贸有限公司", "订单履行", "营销推广", "交接告知",
			"请问新公司的电话是多少?", "你们是谁?", "邮件误发", "员工误操作", "审计须知", "已撤回邮件", "告知客户业务转让", "误发", "发送前核对名单", "上海市浦东新区世纪大道100号", "上海市***", "保密协议",
			// the opt-out and consent keywords customers type, named as
			// examples on en pages too
			"退订", "同意", "TD",
			// the Aliyun console's own name for a notice SMS, quoted in
			// the en templates' filing notes so the reader finds it there
			"通知短信"}, names...),
	}
}

// fill puts ids into a route's path, or says which parameter it lacks.
func (s languageSeed) fill(path string, extra map[string]string) (string, string) {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if !strings.HasPrefix(p, ":") {
			continue
		}
		if v, ok := extra[p]; ok {
			parts[i] = v
			continue
		}
		if p == ":id" && i > 0 && s.ids[parts[i-1]] != "" {
			parts[i] = s.ids[parts[i-1]]
			continue
		}
		return "", p
	}
	return strings.Join(parts, "/"), ""
}

// TestLanguageEveryPage renders every dashboard page (each GET route
// registered as a page, found by walking the router) and every portal page
// in zh-CN and en, and fails on English sentences in zh-CN, Chinese in en,
// raw status codes, channel names and untranslated keys.
func TestLanguageEveryPage(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	codes := statusCodes(t)
	seed := seedLanguage(t, a)
	ctx := context.Background()

	var dashboardPages, portalPages []string
	for _, r := range a.handler.(*echo.Echo).Routes() {
		if r.Method != http.MethodGet {
			continue
		}
		switch {
		case strings.HasPrefix(r.Name, web.PageRouteName):
			dashboardPages = append(dashboardPages, r.Path)
		case strings.HasPrefix(r.Path, "/l/:token"):
			portalPages = append(portalPages, r.Path)
		}
	}
	sort.Strings(dashboardPages)
	sort.Strings(portalPages)
	if len(dashboardPages) < 15 || len(portalPages) < 7 {
		t.Fatalf("found %d dashboard and %d portal pages", len(dashboardPages), len(portalPages))
	}
	var skipped []string
	dashboardPages = withoutSkipped(dashboardPages, &skipped)
	portalPages = withoutSkipped(portalPages, &skipped)
	for _, lang := range locales.Languages {
		t.Run(lang, func(t *testing.T) {
			m := &staff.Member{Email: "viewer-" + lang + "@example.com", Name: "viewer", Role: staff.Admin, Locale: lang, TimeZone: "Asia/Shanghai"}
			if err := a.staff.CreateMember(ctx, m, testPassword, "test"); err != nil {
				t.Fatal(err)
			}
			w := a.newWebClient()
			w.login(m.Email, testPassword)
			check := func(path string, body string) {
				t.Helper()
				problems := languageProblems(lang, body, codes, seed.data)
				if len(problems) == 0 {
					return
				}
				for route, why := range pendingPages {
					if p, _ := seed.fill(route, nil); p == path {
						t.Logf("pending (%s): %s in %s:\n  %s", why, path, lang, strings.Join(problems, "\n  "))
						return
					}
				}
				t.Errorf("%s in %s:\n  %s", path, lang, strings.Join(problems, "\n  "))
			}
			for _, route := range dashboardPages {
				path, missing := seed.fill(route, map[string]string{":staff_id": m.ID})
				if path == "" && strings.HasPrefix(route, "/staff/:id") {
					path, missing = strings.Replace(route, ":id", m.ID, 1), ""
				}
				if missing != "" {
					t.Errorf("GET %s: no data for %s; seed it in seedLanguage or list the route in skippedPages with the reason", route, missing)
					continue
				}
				resp, body := w.get(path)
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", path, resp.StatusCode)
					continue
				}
				if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
					t.Errorf("GET %s answers %s: list it in skippedPages if it is not a page", path, resp.Header.Get("Content-Type"))
					continue
				}
				check(path, body)
			}
			// Pages behind a query or a flash.
			for _, path := range []string{"/tickets?view=unassigned", "/tickets?status=resolved", "/customers?q=" + url.QueryEscape("张"),
				"/campaigns/" + seed.ids["campaigns"] + "?done=created", "/campaigns/no-such-campaign", "/login"} {
				if path == "/login" && lang != locales.Chinese {
					continue // a guest's page speaks the browser's language: zh-CN here
				}
				if path == "/login" {
					w = a.newWebClient()
				}
				_, body := w.get(path)
				check(path, body)
			}
			if lang == locales.Chinese {
				w.get("/login")
				_, body := w.post("/login", url.Values{"email": {m.Email}, "password": {"wrong password!"}})
				check("/login (wrong password)", body)
			}

			v := a.visitor()
			v.get("/l/" + seed.token + "?lang=" + map[string]string{"en": "en", "zh-CN": "zh"}[lang])
			for _, route := range portalPages {
				path, _ := seed.fill(route, map[string]string{":token": seed.token})
				status, body := v.get(path)
				if status != http.StatusOK && status != http.StatusSeeOther {
					t.Errorf("GET %s: %d", route, status)
					continue
				}
				check(route, body)
			}
			// The portal's steps and results.
			csrf := v.form("/l/" + seed.token + "/consent")
			_, body, _ := v.post("/l/"+seed.token+"/consent", url.Values{"_csrf": {csrf}, "step": {"review"}, "p0": {"grant"}, "p1": {"decline"}})
			check("consent review", body)
			_, body, h := v.post("/l/"+seed.token+"/consent", url.Values{"_csrf": {csrf}, "step": {"confirm"}, "p0": {"grant"}, "p1": {"decline"}})
			if loc := h.Get("Location"); loc != "" {
				_, body = v.get(strings.TrimPrefix(loc, a.url))
			}
			check("consent result", body)
			mine := map[string]string{"zh-CN": seed.token, "en": seed.token2}[lang]
			v.get("/l/" + mine)
			_, challenge, code := startMyData(t, a, v, "/l/"+mine, "phone")
			_, body, h = v.post("/l/"+mine+"/mydata/verify", url.Values{"_csrf": {csrf}, "c": {challenge}, "code": {code}})
			if loc := h.Get("Location"); loc != "" {
				_, body = v.get(strings.TrimPrefix(loc, a.url))
			}
			check("my data", body)
			_, body = v.get("/l/not-a-token")
			check("gone", body)
		})
	}
	t.Logf("skipped pages:\n  %s", strings.Join(skipped, "\n  "))
	if os.Getenv("TEST_ARTIFACTS") != "" {
		os.WriteFile(filepath.Join(os.Getenv("TEST_ARTIFACTS"), "language-skipped.txt"), []byte(strings.Join(skipped, "\n")+"\n"), 0o644)
	}
}

// withoutSkipped drops the routes listed in skippedPages, noting each with
// its reason.
func withoutSkipped(routes []string, skipped *[]string) []string {
	var out []string
	for _, route := range routes {
		if why, ok := skippedPages["GET "+route]; ok {
			*skipped = append(*skipped, route+": "+why)
			continue
		}
		out = append(out, route)
	}
	return out
}

// runNoticeCampaign sends a transfer notice through the devbox to every
// customer and waits until it completes; it returns the campaign's id.
func (a *app) runNoticeCampaign(admin, transfer, template string) string {
	a.t.Helper()
	var cp struct{ ID, Status string }
	a.postJSON("/api/v1/campaigns", admin, fmt.Sprintf(`{"name":"交接告知","transfer_id":%q,"kind":"transfer_notice","channels":["devbox"],"templates":{"devbox":%q}}`,
		transfer, template), &cp)
	a.postJSON("/api/v1/campaigns/"+cp.ID+"/start", admin, "", &cp)
	a.startWorker()
	for deadline := time.Now().Add(20 * time.Second); cp.Status != "completed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			a.t.Fatalf("campaign not completed: %+v", cp)
		}
		a.getJSON("/api/v1/campaigns/"+cp.ID, admin, &cp)
	}
	return cp.ID
}
