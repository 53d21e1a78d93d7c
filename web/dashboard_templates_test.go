package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// TestDashboardTemplatesShowTheApprovedModel: the templates page explains
// the approved-template model and shows, per SMS template, its Aliyun
// type and whether its code is missing; the template's page shows the
// approved text.
func TestDashboardTemplatesShowTheApprovedModel(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.SMS, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("default SMS notice: %v", err)
		}
		_, email := a.staffMember(staff.Marketer, "marketer")
		w := a.newWebClient()
		w.login(email, testPassword)
		resp, body := w.get("/templates")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="templates-model"`) ||
			strings.Count(body, `class="badge warn"`) != 2*len(templates.Kinds)*len(templates.Locales) {
			t.Fatalf("templates page: %d\n%s", resp.StatusCode, body)
		}
		if _, body := w.get("/templates/" + list[0].ID); !strings.Contains(html.UnescapeString(body), list[0].Body) {
			t.Fatalf("approved text not on the template's page:\n%s", body)
		}
		c := list[0].Content
		c.SMS.TemplateCode = "SMS_4242"
		if _, err := a.templates.UpdateTemplate(ctx, list[0].ID, templates.Update{Content: c}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if _, body := w.get("/templates"); !strings.Contains(body, "<code>SMS_4242</code>") {
			t.Fatalf("code not shown:\n%s", body)
		}
	})
}

// TestDashboardTemplateEditor: a marketer creates a template, is refused
// with the reasons (and nothing is written) when a check fails, edits it
// as a new version, is refused an edit made from a stale version, sees
// the old version, previews it with a real customer (masked, audited) and
// test-sends it to the devbox. An agent may read but not edit.
func TestDashboardTemplateEditor(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		customer := a.oneCustomer()
		_, email := a.staffMember(staff.Marketer, "marketer")
		w := a.newWebClient()
		w.login(email, testPassword)
		w.get("/templates/new")

		// A consent request without the link or the opt-out is refused.
		bad := url.Values{"name": {"续约通知"}, "kind": {"consent_request"}, "channel": {"email"}, "locale": {"zh-CN"},
			"subject": {"请确认"}, "body": {"{{.Customer.Name}} 您好"}}
		resp, body := w.post("/templates/new", bad)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-problems"`) || !strings.Contains(body, "续约通知") ||
			!strings.Contains(body, "同意请求必须附上客户作出决定的链接") {
			t.Fatalf("refused create: %d\n%s", resp.StatusCode, body)
		}
		if list, _ := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.ConsentRequest}); len(list) != 0 {
			t.Fatalf("a refused template was written: %d", len(list))
		}
		good := url.Values{"name": {"通用邮件"}, "kind": {"generic"}, "channel": {"email"}, "locale": {"zh-CN"},
			"subject": {"您好 {{.Customer.Name}}"}, "body": {"{{.Customer.Name}} 您好，详情：{{.Link}}\n{{.OptOut}}"}}
		resp, _ = w.post("/templates/new", good)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/templates/") {
			t.Fatalf("create: %d %q", resp.StatusCode, loc)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/templates/"), "?done=template_created")
		if _, body = w.get("/templates/" + id); !strings.Contains(body, `id="template-checks-ok"`) || !strings.Contains(body, `id="preview-text"`) {
			t.Fatalf("template page:\n%s", body)
		}

		// Edit as version 2; an edit from version 1 again is a conflict.
		w.get("/templates/" + id + "/edit")
		edit := url.Values{"name": {"通用邮件"}, "version": {"1"}, "subject": {"新主题 {{.Customer.Name}}"},
			"body": {"{{.Customer.Name}} 您好，第二稿：{{.Link}}\n{{.OptOut}}"}}
		if resp, body = w.post("/templates/"+id+"/edit", edit); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit: %d\n%s", resp.StatusCode, body)
		}
		if resp, body = w.post("/templates/"+id+"/edit", edit); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-problems"`) {
			t.Fatalf("stale edit: %d\n%s", resp.StatusCode, body)
		}
		tm, err := a.templates.FindTemplateByID(ctx, id)
		if err != nil || tm.Version != 2 || !strings.Contains(tm.Body, "第二稿") {
			t.Fatalf("after edit: %+v %v", tm, err)
		}
		if _, body = w.get("/templates/" + id + "?version=1"); !strings.Contains(body, `id="old-version"`) || strings.Contains(body, "第二稿") {
			t.Fatalf("version 1 page:\n%s", body)
		}

		// Preview with the customer by phone: masked, and audited.
		resp, body = w.post("/templates/"+id+"/preview", url.Values{"customer": {"13812345678"}})
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "张*") || strings.Contains(body, "张三") {
			t.Fatalf("preview: %d\n%s", resp.StatusCode, body)
		}
		if got := a.auditActions("template.preview"); len(got) != 1 || got[0].ObjectID != customer {
			t.Fatalf("preview audit: %+v", got)
		}
		if resp, body = w.post("/templates/"+id+"/preview", url.Values{"customer": {"13900000000"}}); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(body, `id="template-error"`) {
			t.Fatalf("preview of nobody: %d\n%s", resp.StatusCode, body)
		}

		// Test-send: the devbox records it, with the member's name.
		if resp, body = w.post("/templates/"+id+"/test-send", nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="test-sent"`) {
			t.Fatalf("test send: %d\n%s", resp.StatusCode, body)
		}
		msgs, err := a.devbox.Find(ctx, "", 10)
		if err != nil || len(msgs) != 1 || !strings.Contains(msgs[0].Text, "marketer") || !strings.Contains(msgs[0].Subject, "[TEST]") {
			t.Fatalf("devbox: %+v %v", msgs, err)
		}

		// An agent reads, but the editor is not theirs; no CSRF, no save.
		_, agentEmail := a.staffMember(staff.Agent, "agent")
		ag := a.newWebClient()
		ag.login(agentEmail, testPassword)
		if resp, _ = ag.get("/templates/" + id); resp.StatusCode != http.StatusOK {
			t.Fatalf("agent read: %d", resp.StatusCode)
		}
		if resp, _ = ag.get("/templates/" + id + "/edit"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("agent edit page: %d", resp.StatusCode)
		}
		edit.Set("version", "2")
		edit.Set("csrf", "forged")
		if resp, _ = w.post("/templates/"+id+"/edit", edit); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("forged CSRF: %d", resp.StatusCode)
		}
	})
}
