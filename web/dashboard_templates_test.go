package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// TestDashboardTemplatesShowTheApprovedModel: the templates page explains
// the approved-template model and shows, per SMS template, its Aliyun
// type, its approved text and whether its code is missing.
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
		body = html.UnescapeString(body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="templates-model"`) || !strings.Contains(body, list[0].Body) ||
			strings.Count(body, `class="badge warn"`) != 2*len(templates.Kinds)*len(templates.Locales) {
			t.Fatalf("templates page: %d\n%s", resp.StatusCode, body)
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

// TestDashboardTemplateEdit: a marketer opens a template, saves an edit as
// a new version, is refused (with the reason, nothing stored) when the
// text breaks the checks or the form is forged, and previews it with a
// chosen customer, masked; an agent may look but not save.
func TestDashboardTemplateEdit(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.Generic, Channel: channels.Devbox, Locale: "zh-CN"})
	if len(list) != 1 {
		t.Fatalf("%d generic devbox templates", len(list))
	}
	tpl := list[0]
	path := "/templates/" + tpl.ID
	_, mail := a.staffMember(staff.Marketer, "marketer")
	w := a.newWebClient()
	w.login(mail, testPassword)
	resp, body := w.get("/templates")
	if !strings.Contains(body, `href="`+path+`"`) {
		t.Fatalf("the list does not link the template: %d", resp.StatusCode)
	}
	resp, body = w.get(path)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="body"`) {
		t.Fatalf("template page: %d\n%s", resp.StatusCode, body)
	}
	form := url.Values{"name": {tpl.Name}, "base_version": {"1"}, "body": {"{{.Customer.Name}}您好:新品上市,详情见 {{.Link}}"}}
	if resp, _ := w.post(path, url.Values{"csrf": {"forged"}, "body": form["body"]}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("forged save: %d", resp.StatusCode)
	}
	if resp, body := w.post(path, url.Values{"name": {tpl.Name}, "base_version": {"1"}, "body": {"{{.Nope}}"}}); resp.StatusCode != http.StatusBadRequest ||
		!strings.Contains(body, `id="form-error"`) || !strings.Contains(body, "{{.Nope}}") {
		t.Fatalf("bad template: %d\n%s", resp.StatusCode, between(body, "<main", "</form>"))
	}
	if cur, _ := a.templates.FindTemplateByID(ctx, tpl.ID); cur.Version != 1 {
		t.Fatalf("a refused edit stored version %d", cur.Version)
	}
	resp, body = w.post(path, form)
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusOK {
		t.Fatalf("save: %d\n%s", resp.StatusCode, between(body, "<main", "</form>"))
	}
	if cur, _ := a.templates.FindTemplateByID(ctx, tpl.ID); cur.Version != 2 || !strings.Contains(cur.Body, "新品上市") {
		t.Fatalf("after save: version %d %q", cur.Version, cur.Body)
	}
	// A second save from the old version is a conflict, said on the form.
	if resp, body := w.post(path, form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="form-error"`) {
		t.Fatalf("stale save: %d", resp.StatusCode)
	}
	people, _, _ := a.customers.FindCustomers(ctx, customers.Filter{})
	resp, body = w.post(path+"/preview", url.Values{"customer_id": {people[0].ID}})
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="template-preview"`) || !strings.Contains(body, "新品上市") ||
		strings.Contains(body, people[0].Name+"您好") {
		t.Fatalf("preview: %d\n%s", resp.StatusCode, between(body, `id="template-preview-form"`, "</section>"))
	}
	_, agentMail := a.staffMember(staff.Agent, "agent")
	ag := a.newWebClient()
	ag.login(agentMail, testPassword)
	if resp, _ := ag.get(path); resp.StatusCode != http.StatusOK {
		t.Fatalf("agent view: %d", resp.StatusCode)
	}
	if resp, _ := ag.post(path, form); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("agent save: %d", resp.StatusCode)
	}
}
