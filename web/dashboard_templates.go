package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

func (s *Server) registerTemplatePages() {
	s.pageRoute(http.MethodGet, "/templates", s.handleTemplatesPage, staff.ReadTemplates)
	s.pageRoute(http.MethodGet, "/templates/:id", s.handleTemplatePage, staff.ReadTemplates)
	s.pageRoute(http.MethodPost, "/templates/:id", s.handleTemplateSavePage, staff.WriteTemplates)
	s.pageRoute(http.MethodPost, "/templates/:id/preview", s.handleTemplatePreviewPage, staff.ReadTemplates)
}

// handleTemplatesPage lists the message templates (latest versions).
func (s *Server) handleTemplatesPage(c echo.Context) error {
	list, err := s.templates.FindTemplates(c.Request().Context(), templates.Filter{})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "templates", &page{Title: "nav.templates", Nav: "templates", Data: list})
}

// templateView is a template's page: its latest version, the edit form
// (kept as typed when refused), and a preview.
type templateView struct {
	Template  *templates.Template
	Form      templates.Content
	Name      string
	Transfers []*customers.Transfer
	// Preview input and result.
	CustomerID, TransferID string
	Preview                *templates.Preview
	Warnings               []string
	Error                  string
}

func (s *Server) templatePage(c echo.Context, status int, v templateView) error {
	var err error
	if v.Template == nil {
		if v.Template, err = s.templates.FindTemplateByID(c.Request().Context(), c.Param("id")); err != nil {
			return err
		}
	}
	if v.Name == "" {
		v.Name, v.Form = v.Template.Name, v.Template.Content
	}
	if v.Transfers, err = s.customers.FindTransfers(c.Request().Context()); err != nil {
		return err
	}
	return s.render(c, status, "template", &page{Title: "nav.templates", Nav: "templates", Flash: c.QueryParam("done"), Data: v})
}

// handleTemplatePage shows a template with its edit and preview forms.
func (s *Server) handleTemplatePage(c echo.Context) error {
	return s.templatePage(c, http.StatusOK, templateView{})
}

// handleTemplateSavePage stores the form as the template's next version;
// refused input (the template checks) shows the form again with the
// reasons and stores nothing.
func (s *Server) handleTemplateSavePage(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.templates.FindTemplateByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	content := t.Content // params and fields mappings are kept
	content.Description = c.FormValue("description")
	content.Subject, content.Body, content.HTMLBody = c.FormValue("subject"), c.FormValue("body"), c.FormValue("html_body")
	content.SMS.SignName, content.SMS.TemplateCode = strings.TrimSpace(c.FormValue("sms_sign_name")), strings.TrimSpace(c.FormValue("sms_template_code"))
	content.WeChat.TemplateID = strings.TrimSpace(c.FormValue("wechat_template_id"))
	base, _ := strconv.Atoi(c.FormValue("base_version"))
	v := templateView{Template: t, Name: c.FormValue("name"), Form: content}
	saved, err := s.templates.UpdateTemplate(ctx, t.ID, templates.Update{Name: v.Name, Content: content, BaseVersion: base}, member(c).Actor())
	if code := handover.ErrorCode(err); code == handover.EINVALID || code == handover.ECONFLICT {
		v.Error = handover.ErrorMessage(err)
		return s.templatePage(c, http.StatusBadRequest, v)
	} else if err != nil {
		return err
	}
	if len(saved.Warnings) > 0 {
		return s.templatePage(c, http.StatusOK, templateView{Template: saved, Warnings: saved.Warnings})
	}
	return c.Redirect(http.StatusSeeOther, "/templates/"+t.ID+"?done=mk_template_saved")
}

// handleTemplatePreviewPage renders the latest version for a chosen
// customer (masked) or the sample one, with a transfer.
func (s *Server) handleTemplatePreviewPage(c echo.Context) error {
	v := templateView{CustomerID: strings.TrimSpace(c.FormValue("customer_id")), TransferID: c.FormValue("transfer_id")}
	p, err := s.templates.Preview(c.Request().Context(), c.Param("id"),
		templates.PreviewInput{CustomerID: v.CustomerID, TransferID: v.TransferID}, member(c).Actor())
	if code := handover.ErrorCode(err); code == handover.EINVALID || code == handover.ENOTFOUND {
		v.Error = handover.ErrorMessage(err)
		return s.templatePage(c, http.StatusBadRequest, v)
	} else if err != nil {
		return err
	}
	v.Preview = p
	return s.templatePage(c, http.StatusOK, v)
}
