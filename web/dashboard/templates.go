package dashboard

import (
	"cmp"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// registerTemplatePages: the marketer's templates. List → view (any
// version) → edit as a new version → preview with a chosen customer →
// test-send to oneself.
func (s *Dashboard) registerTemplatePages() {
	s.pageRoute(http.MethodGet, "/templates", s.handleTemplatesPage, staff.ReadTemplates)
	s.pageRoute(http.MethodGet, "/templates/new", s.handleTemplateNewPage, staff.WriteTemplates)
	s.pageRoute(http.MethodPost, "/templates/new", s.handleTemplateCreatePage, staff.WriteTemplates)
	s.pageRoute(http.MethodGet, "/templates/:id", s.handleTemplatePage, staff.ReadTemplates)
	s.pageRoute(http.MethodGet, "/templates/:id/edit", s.handleTemplateEditPage, staff.WriteTemplates)
	s.pageRoute(http.MethodPost, "/templates/:id/edit", s.handleTemplateSavePage, staff.WriteTemplates)
	s.pageRoute(http.MethodPost, "/templates/:id/preview", s.handleTemplatePreviewPage, staff.ReadTemplates)
	s.pageRoute(http.MethodPost, "/templates/:id/test-send", s.handleTemplateTestSendPage, staff.WriteTemplates)
}

// templatesView is the list, filtered by kind and channel.
type templatesView struct {
	Templates []*templates.Template
	Kind      string
	Channel   string
	Kinds     []templates.Kind
	Channels  []channels.Name
}

// handleTemplatesPage lists the message templates (latest versions).
func (s *Dashboard) handleTemplatesPage(c echo.Context) error {
	v := templatesView{Kind: c.QueryParam("kind"), Channel: c.QueryParam("channel"), Kinds: templates.Kinds, Channels: templates.Channels}
	list, err := s.templates.FindTemplates(c.Request().Context(), templates.Filter{Kind: templates.Kind(v.Kind), Channel: channels.Name(v.Channel)})
	if err != nil {
		return err
	}
	v.Templates = list
	return s.render(c, http.StatusOK, "templates", &page{Title: "nav.templates", Nav: "templates", Flash: c.QueryParam("done"), Data: v})
}

// templateView is one template at one version, with its checks, a preview
// and what a message costs.
type templateView struct {
	Template *templates.Template
	Version  *templates.Version
	// Author is who wrote the version: a member's name, or the actor
	// (the defaults are "system").
	Author string
	// Versions are the version numbers, newest first.
	Versions  []int
	Warnings  []string
	Preview   *templates.Preview
	Customer  string // the preview's customer as asked (phone, email or id)
	Transfer  string
	Transfers []*transfers.Transfer
	Cost      string // the SMS cost per recipient in yuan, "" off SMS
	Error     string
	Sent      string // the channel a test went by
}

// templatePage shows a template at version n (0: the latest) with the
// preview p (the sample preview when nil).
func (s *Dashboard) templatePage(c echo.Context, status int, v templateView, n int) error {
	ctx := c.Request().Context()
	t, err := s.templates.FindTemplateByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v.Template = t
	if n <= 0 || n > t.Version {
		n = t.Version
	}
	if v.Version, err = s.templates.FindTemplateVersion(ctx, t.ID, n); err != nil {
		return err
	}
	v.Author = v.Version.CreatedBy
	if id, ok := strings.CutPrefix(v.Author, "staff:"); ok {
		if m, err := s.staff.FindMemberByID(ctx, id); err == nil {
			v.Author = cmp.Or(m.Name, m.Email)
		}
	}
	for i := t.Version; i >= 1; i-- {
		v.Versions = append(v.Versions, i)
	}
	if v.Warnings, err = templates.Validate(v.Version); err != nil {
		v.Warnings = []string{errorText(c, err)}
	}
	if v.Preview == nil && v.Error == "" {
		if v.Preview, err = s.templates.Preview(ctx, t.ID, templates.PreviewInput{Version: n}, member(c).Actor()); err != nil {
			v.Error = errorText(c, err)
		}
	}
	if v.Preview != nil && v.Preview.Segments > 0 && t.Channel == channels.SMS {
		v.Cost = strconv.FormatFloat(float64(v.Preview.Segments)*s.cfg.Channels.SMSSegmentPrice, 'f', 3, 64)
	}
	if v.Transfers, err = s.transfers.FindTransfers(ctx); err != nil {
		return err
	}
	return s.render(c, status, "template", &page{Title: "nav.templates", Nav: "templates", Flash: c.QueryParam("done"), Data: v})
}

// handleTemplatePage shows the latest version, or ?version=N.
func (s *Dashboard) handleTemplatePage(c echo.Context) error {
	n, _ := strconv.Atoi(c.QueryParam("version"))
	return s.templatePage(c, http.StatusOK, templateView{}, n)
}

// handleTemplatePreviewPage renders the template for a chosen customer (an
// exact phone, email or customer id, masked as staff see customers) and
// transfer; the preview is audited.
func (s *Dashboard) handleTemplatePreviewPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := templateView{Customer: c.FormValue("customer"), Transfer: c.FormValue("transfer_id")}
	n, _ := strconv.Atoi(c.FormValue("version"))
	in := templates.PreviewInput{TransferID: v.Transfer, Version: n}
	id, err := s.exactCustomer(ctx, strings.TrimSpace(v.Customer))
	if err == nil {
		in.CustomerID = id
		v.Preview, err = s.templates.Preview(ctx, c.Param("id"), in, member(c).Actor())
	}
	if err != nil {
		if handover.ErrorCode(err) == handover.EINTERNAL {
			return err
		}
		v.Error = errorText(c, err)
		return s.templatePage(c, http.StatusBadRequest, v, n)
	}
	return s.templatePage(c, http.StatusOK, v, n)
}

// handleTemplateTestSendPage sends the latest version to the member's own
// email (an email template) or to the devbox.
func (s *Dashboard) handleTemplateTestSendPage(c echo.Context) error {
	m := member(c)
	res, err := s.campaigns.TestSendTemplate(c.Request().Context(), c.Param("id"), c.FormValue("transfer_id"),
		channels.Address{Email: m.Email}, m.Name, m.Actor())
	if err != nil {
		if handover.ErrorCode(err) == handover.EINTERNAL {
			return err
		}
		return s.templatePage(c, http.StatusBadRequest, templateView{Error: errorText(c, err)}, 0)
	}
	return s.templatePage(c, http.StatusOK, templateView{Sent: string(res.Channel)}, 0)
}
