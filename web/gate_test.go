package web_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// routeData classifies every route: "personal" shows or moves customers'
// personal data and must be behind the governance gate; "staff" is for
// signed-in staff and does not; "public" needs no sign-in (its own
// checks apply). A new route must be added here.
var routeData = map[string]string{
	"DELETE /api/v1/tokens/:id":                  "staff",
	"GET /account/tokens":                        "staff",
	"GET /api/v1/sms/templates":                  "staff",
	"GET /api/v1/tickets/:id/bind-proposal":      "personal",
	"GET /api/v1/tokens":                         "staff",
	"GET /api/v1/wechat-binds":                   "personal",
	"GET /staff/:id/tokens":                      "staff",
	"GET /wechat-binds":                          "personal",
	"POST /account/tokens/:token/revoke":         "staff",
	"POST /api/v1/staff/:id/unlock":              "staff",
	"POST /api/v1/wechat-binds/:id/approve":      "personal",
	"POST /api/v1/wechat-binds/:id/reject":       "personal",
	"POST /staff/:id/tokens/:token/revoke":       "staff",
	"POST /staff/:id/unlock":                     "staff",
	"POST /wechat-binds/:id/approve":             "personal",
	"POST /wechat-binds/:id/reject":              "personal",
	"DELETE /api/v1/canned-replies/:id":          "staff",
	"DELETE /api/v1/templates/:id":               "staff",
	"DELETE /api/v1/ticket-rules/:id":            "staff",
	"DELETE /api/v1/transfers/:id/public-report": "staff",
	"GET /":                                           "staff",
	"GET /access-report":                              "staff",
	"GET /access-report.csv":                          "staff",
	"GET /account":                                    "staff",
	"GET /agreement":                                  "staff",
	"GET /api/v1/access-report":                       "staff",
	"GET /api/v1/access-reviews/:id":                  "staff",
	"GET /api/v1/agreement":                           "staff",
	"GET /api/v1/archive":                             "personal",
	"GET /api/v1/campaigns":                           "staff",
	"GET /api/v1/campaigns/:id":                       "staff",
	"GET /api/v1/campaigns/:id/deliveries":            "personal",
	"GET /api/v1/campaigns/:id/progress":              "staff",
	"GET /api/v1/canned-replies":                      "staff",
	"GET /api/v1/corrections":                         "personal",
	"GET /api/v1/customers":                           "personal",
	"GET /api/v1/customers/:id":                       "personal",
	"GET /api/v1/customers/:id/data":                  "personal",
	"GET /api/v1/destruction-plans/:id":               "staff",
	"GET /api/v1/destruction-plans/:id/report":        "staff",
	"GET /api/v1/devbox/messages":                     "personal",
	"GET /api/v1/imports/:id":                         "personal",
	"GET /api/v1/incidents":                           "staff",
	"GET /api/v1/incidents/:id":                       "staff",
	"GET /api/v1/incidents/:id/report":                "staff",
	"GET /api/v1/me":                                  "staff",
	"GET /api/v1/openapi.yaml":                        "public",
	"GET /api/v1/templates":                           "staff",
	"GET /api/v1/templates/:id":                       "staff",
	"GET /api/v1/templates/:id/versions/:version":     "staff",
	"GET /api/v1/ticket-rules":                        "staff",
	"GET /api/v1/tickets":                             "personal",
	"GET /api/v1/tickets/:id":                         "personal",
	"GET /api/v1/tickets/counts":                      "personal",
	"GET /api/v1/training":                            "staff",
	"GET /api/v1/training/results":                    "staff",
	"GET /api/v1/transfers/:id":                       "staff",
	"GET /api/v1/transfers/:id/archive-index":         "staff",
	"GET /api/v1/transfers/:id/assessments":           "staff",
	"GET /campaigns":                                  "staff",
	"GET /campaigns/:id":                              "staff",
	"GET /campaigns/:id/progress":                     "staff",
	"GET /campaigns/new":                              "personal",
	"GET /campaigns/:id/edit":                         "personal",
	"GET /campaigns/:id/cancel":                       "staff",
	"GET /campaigns/:id/deliveries.csv":               "personal",
	"GET /corrections":                                "personal",
	"GET /customers":                                  "personal",
	"GET /customers/:id":                              "personal",
	"GET /devbox":                                     "personal",
	"GET /governance":                                 "staff",
	"GET /healthz":                                    "public",
	"GET /hooks/wechat":                               "public",
	"GET /l/:token":                                   "public",
	"GET /l/:token/consent":                           "public",
	"GET /l/:token/contact":                           "public",
	"GET /l/:token/details":                           "public",
	"GET /l/:token/details/confirm":                   "public",
	"GET /l/:token/mydata":                            "public",
	"GET /l/:token/mydata/download":                   "public",
	"GET /l/:token/optout":                            "public",
	"GET /l/:token/survey":                            "public",
	"GET /login":                                      "public",
	"GET /metrics":                                    "public",
	"GET /readyz":                                     "public",
	"GET /staff":                                      "staff",
	"GET /static/dashboard.css":                       "public",
	"GET /static/dashboard.js":                        "public",
	"GET /static/portal.css":                          "public",
	"GET /templates":                                  "staff",
	"GET /templates/new":                              "staff",
	"POST /templates/new":                             "staff",
	"GET /templates/:id":                              "staff",
	"GET /templates/:id/edit":                         "staff",
	"POST /templates/:id/edit":                        "staff",
	"POST /templates/:id/preview":                     "personal",
	"POST /templates/:id/test-send":                   "personal",
	"GET /tickets":                                    "personal",
	"GET /tickets/:id":                                "personal",
	"GET /tickets/:id/row":                            "personal",
	"GET /tickets/events":                             "personal",
	"GET /training":                                   "staff",
	"GET /transparency/:slug":                         "public",
	"GET /transparency/report.css":                    "public",
	"PATCH /api/v1/customers/:id":                     "personal",
	"PATCH /api/v1/tickets/:id":                       "personal",
	"POST /account/preferences":                       "staff",
	"POST /account/totp":                              "staff",
	"POST /account/totp/confirm":                      "staff",
	"POST /agreement":                                 "staff",
	"POST /api/v1/access-reviews":                     "staff",
	"POST /api/v1/access-reviews/:id/items/:staff_id": "staff",
	"POST /api/v1/agreement/accept":                   "staff",
	"POST /api/v1/agreements":                         "staff",
	"POST /api/v1/assessments":                        "staff",
	"POST /api/v1/assessments/:id/approve":            "staff",
	"POST /api/v1/assessments/:id/reject":             "staff",
	"POST /api/v1/campaigns":                          "personal",
	"POST /api/v1/campaigns/:id/cancel":               "staff",
	"POST /api/v1/campaigns/:id/pause":                "staff",
	"POST /api/v1/campaigns/:id/resume":               "personal",
	"POST /api/v1/campaigns/:id/schedule":             "personal",
	"POST /api/v1/campaigns/:id/start":                "personal",
	"POST /api/v1/campaigns/:id/test-send":            "personal",
	"POST /api/v1/campaigns/audience-preview":         "personal",
	"POST /api/v1/canned-replies":                     "staff",
	"POST /api/v1/corrections/:id/approve":            "personal",
	"POST /api/v1/corrections/:id/reject":             "personal",
	"POST /api/v1/corrections/:id/reveal":             "personal",
	"POST /api/v1/customers/:id/erase":                "personal",
	"POST /api/v1/customers/:id/erase/refuse":         "personal",
	"POST /api/v1/customers/:id/links":                "personal",
	"POST /api/v1/customers/:id/reveal":               "personal",
	"POST /api/v1/customers/import":                   "personal",
	"POST /api/v1/destruction-plans/:id/approve":      "personal",
	"POST /api/v1/destruction-plans/:id/cancel":       "staff",
	"POST /api/v1/destruction-plans/:id/run":          "personal",
	"POST /api/v1/devbox/messages/:delivery_id/reply": "personal",
	"POST /api/v1/incidents":                          "staff",
	"POST /api/v1/incidents/:id/events":               "staff",
	"POST /api/v1/incidents/:id/notice":               "personal",
	"POST /api/v1/links/:id/revoke":                   "personal",
	"POST /api/v1/templates":                          "staff",
	"POST /api/v1/templates/:id/preview":              "personal",
	"POST /api/v1/ticket-rules":                       "staff",
	"POST /api/v1/tickets/:id/link":                   "personal",
	"POST /api/v1/tickets/:id/merge":                  "personal",
	"POST /api/v1/tickets/:id/notes":                  "personal",
	"POST /api/v1/tickets/:id/replies":                "personal",
	"POST /api/v1/tickets/calls":                      "personal",
	"POST /api/v1/training/modules":                   "staff",
	"POST /api/v1/training/modules/:id/attempts":      "staff",
	"POST /api/v1/training/modules/:id/retire":        "staff",
	"POST /api/v1/transfers":                          "staff",
	"POST /api/v1/transfers/:id/archive":              "personal",
	"POST /api/v1/transfers/:id/destruction-plans":    "personal",
	"POST /api/v1/transfers/:id/exports":              "personal",
	"POST /api/v1/transfers/:id/public-report":        "staff",
	"POST /campaigns":                                 "personal",
	"POST /campaigns/:id/cancel":                      "staff",
	"POST /campaigns/:id/pause":                       "staff",
	"POST /campaigns/:id/resume":                      "personal",
	"POST /campaigns/:id/start":                       "personal",
	"POST /campaigns/:id/edit":                        "personal",
	"POST /campaigns/:id/again":                       "personal",
	"POST /campaigns/:id/test-send":                   "personal",
	"POST /corrections/:id/approve":                   "personal",
	"POST /corrections/:id/reject":                    "personal",
	"POST /corrections/:id/reveal":                    "personal",
	"POST /customers/:id/reveal":                      "personal",
	"POST /devbox/:delivery_id/reply":                 "personal",
	"POST /governance/agreement":                      "staff",
	"POST /governance/reviews":                        "staff",
	"POST /governance/reviews/:id/items/:staff_id":    "staff",
	"POST /governance/transfers/:id/public-report":    "staff",
	"POST /hooks/aliyun/sms/report":                   "public",
	"POST /hooks/aliyun/sms/up":                       "public",
	"POST /hooks/wechat":                              "public",
	"POST /l/:token/consent":                          "public",
	"POST /l/:token/contact":                          "public",
	"POST /l/:token/details":                          "public",
	"POST /l/:token/details/confirm":                  "public",
	"POST /l/:token/details/resend":                   "public",
	"POST /l/:token/mydata/code":                      "public",
	"POST /l/:token/mydata/verify":                    "public",
	"POST /l/:token/optout":                           "public",
	"POST /l/:token/survey":                           "public",
	"POST /l/:token/unsubscribe":                      "public",
	"POST /login":                                     "public",
	"POST /logout":                                    "staff",
	"POST /staff":                                     "staff",
	"POST /staff/:id/disable":                         "staff",
	"POST /staff/:id/enable":                          "staff",
	"POST /staff/:id/role":                            "staff",
	"POST /staff/:id/totp/reset":                      "staff",
	"POST /tickets/bulk":                              "personal",
	"POST /tickets/filters":                           "personal",
	"POST /tickets/filters/:id/delete":                "personal",
	"POST /tickets/:id/link":                          "personal",
	"POST /tickets/:id/merge":                         "personal",
	"POST /tickets/:id/note":                          "personal",
	"POST /tickets/:id/reply":                         "personal",
	"POST /tickets/:id/reveal":                        "personal",
	"POST /tickets/:id/update":                        "personal",
	"POST /tickets/:id/viewing":                       "personal",
	"POST /training/:id":                              "staff",
	"PUT /api/v1/campaigns/:id/portal":                "staff",
	"PUT /api/v1/canned-replies/:id":                  "staff",
	"PUT /api/v1/templates/:id":                       "staff",
	"PUT /api/v1/ticket-rules/:id":                    "staff",
	"GET /compliance":                                 "staff",
	"GET /incidents":                                  "staff",
	"GET /incidents/new":                              "staff",
	"GET /incidents/:id":                              "staff",
	"GET /incidents/:id/report":                       "staff",
	"POST /incidents":                                 "personal",
	"POST /incidents/:id/events":                      "staff",
	"POST /incidents/:id/notice":                      "personal",
	"GET /assessments":                                "staff",
	"POST /assessments":                               "staff",
	"POST /assessments/:id/approve":                   "staff",
	"POST /assessments/:id/reject":                    "staff",
	"GET /export":                                     "personal",
	"GET /export/evidence":                            "personal",
	"POST /export":                                    "personal",
	"POST /export/dry-run":                            "personal",
	"GET /destruction":                                "staff",
	"GET /destruction/:id":                            "staff",
	"GET /destruction/:id/report":                     "staff",
	"POST /destruction":                               "personal",
	"POST /destruction/:id/approve":                   "personal",
	"POST /destruction/:id/run":                       "personal",
	"POST /destruction/:id/cancel":                    "staff",
	"GET /governance/training":                        "staff",
	"POST /governance/training":                       "staff",
	"GET /governance/training/:id/retire":             "staff",
	"POST /governance/training/:id/retire":            "staff",
	"GET /governance/agreements":                      "staff",
	"POST /governance/agreements/confirm":             "staff",
	"GET /admin/queues":                               "staff",
	"GET /admin/queues/*":                             "staff",
	"POST /admin/queues":                              "staff",
	"POST /admin/queues/*":                            "staff",
	"DELETE /admin/queues":                            "staff",
	"DELETE /admin/queues/*":                          "staff",
}

var routeParam = regexp.MustCompile(`:[a-z_]+`)

// TestGateCoversEveryPersonalDataRoute is finding 7: a marketer who had
// not accepted the agreement could start campaigns, read opt-out state
// through the audience preview and see masked names through the template
// preview. Every route is classified, and each personal one is sent by an
// admin (or, for what admins may not do, an auditor) who has not accepted
// the agreement: each must answer the gate's 403.
func TestGateCoversEveryPersonalDataRoute(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Open(t))
	ctx := context.Background()
	if _, err := a.governance.PublishAgreement(ctx, "保密协议", "Confidentiality agreement", "staff:test"); err != nil {
		t.Fatal(err)
	}
	var unclassified []string
	var personal []echo.Route
	for _, r := range a.handler.(*echo.Echo).Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		key := r.Method + " " + r.Path
		switch routeData[key] {
		case "personal":
			personal = append(personal, *r)
		case "staff", "public":
		default:
			unclassified = append(unclassified, fmt.Sprintf("%q: \"?\",", key))
		}
	}
	if len(unclassified) > 0 {
		sort.Strings(unclassified)
		t.Errorf("classify these routes in routeData (gate_test.go) and gate the personal ones (web/gate.go):\n%s", strings.Join(unclassified, "\n"))
	}
	// Admins hold every permission but destruction.approve (auditors').
	tokens := []string{a.tokenFor(staff.Admin), a.tokenFor(staff.Auditor)}
	_, email := a.staffMember(staff.Admin, "gate-admin")
	w := a.newWebClient()
	w.login(email, testPassword)
	w.get("/account") // a page the gate leaves open: its CSRF token
	// What admins may not do (approving a destruction) an auditor sends.
	_, auditorEmail := a.staffMember(staff.Auditor, "gate-auditor")
	aw := a.newWebClient()
	aw.login(auditorEmail, testPassword)
	aw.get("/account")
	for _, r := range personal {
		path := routeParam.ReplaceAllString(r.Path, "01JGATETEST")
		var status int
		var body string
		if strings.HasPrefix(path, "/api/") {
			var out struct {
				Error struct {
					Message string `json:"message"`
				} `json:"error"`
			}
			for _, token := range tokens {
				resp := a.do(r.Method, path, token, echo.MIMEApplicationJSON, strings.NewReader(`{}`), &out)
				status, body = resp.StatusCode, out.Error.Message
				if !strings.Contains(body, "Your role may not") {
					break
				}
			}
		} else if r.Method == http.MethodGet {
			resp, b := w.get(path)
			status, body = resp.StatusCode, b
		} else {
			for _, client := range []*webClient{w, aw} {
				resp, b := client.post(path, nil)
				status, body = resp.StatusCode, b
				if !strings.Contains(body, "Your role may not") {
					break
				}
			}
		}
		if status != http.StatusForbidden || !strings.Contains(body, "agreement") {
			t.Errorf("%s %s by a member who has not accepted the agreement: %d, want 403 %s", r.Method, r.Path, status, body)
		}
	}
}

// TestTrainingAttemptsAnswer429: the fourth attempt in an hour is refused
// with the time to retry, and an attempt never says which answers were
// wrong.
func TestTrainingAttemptsAnswer429(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Open(t))
	mod := &governance.Module{Role: staff.Agent, Title: "基础", Body: "只在需要时查看。",
		Questions: []governance.Question{{Q: "何时？", Options: []string{"随时", "需要时"}, Answer: 1}}, PassScore: 100}
	if err := a.governance.CreateModule(context.Background(), mod, "staff:admin"); err != nil {
		t.Fatal(err)
	}
	agent := a.tokenFor(staff.Agent)
	for i := range governance.MaxAttempts {
		var res map[string]any
		if code := a.postJSON("/api/v1/training/modules/"+mod.ID+"/attempts", agent, `{"answers":[0]}`, &res); code != http.StatusOK {
			t.Fatalf("attempt %d: %d", i+1, code)
		}
		for k := range res {
			if k != "score" && k != "passed" && k != "taken_at" {
				t.Fatalf("attempt answers %q: %v", k, res)
			}
		}
	}
	var out struct {
		Error struct{ Message string } `json:"error"`
	}
	if code := a.postJSON("/api/v1/training/modules/"+mod.ID+"/attempts", agent, `{"answers":[1]}`, &out); code != http.StatusTooManyRequests ||
		!strings.Contains(out.Error.Message, "retry after") {
		t.Fatalf("fourth attempt: %d %q", code, out.Error.Message)
	}
}
