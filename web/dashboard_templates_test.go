package web_test

import (
	"context"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
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
