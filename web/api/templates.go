package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerTemplateRoutes(g *echo.Group) {
	g.GET("/templates", s.handleTemplateList, s.auth.Can(staff.ReadTemplates))
	g.POST("/templates", s.handleTemplateCreate, s.auth.Can(staff.WriteTemplates))
	g.GET("/templates/:id", s.handleTemplateView, s.auth.Can(staff.ReadTemplates))
	g.PUT("/templates/:id", s.handleTemplateUpdate, s.auth.Can(staff.WriteTemplates))
	g.DELETE("/templates/:id", s.handleTemplateDelete, s.auth.Can(staff.WriteTemplates))
	g.GET("/templates/:id/versions/:version", s.handleTemplateVersion, s.auth.Can(staff.ReadTemplates))
	g.POST("/templates/:id/preview", s.handleTemplatePreview, s.auth.Can(staff.ReadTemplates))
	g.GET("/sms/templates", s.handleSMSTemplates, s.auth.Can(staff.WriteTemplates))
}

// handleSMSTemplates lists the Aliyun account's SMS templates with their
// approved texts (QuerySmsTemplateList), so staff pick a code and copy the
// text exactly as approved.
func (s *API) handleSMSTemplates(c echo.Context) error {
	if s.sms == nil {
		return handover.Errorf(handover.ENOTFOUND, "Aliyun SMS is not configured.")
	}
	list, err := s.sms.ApprovedTemplates(c.Request().Context())
	if err != nil {
		kit.RequestLog(s.log, c).Warn("list Aliyun SMS templates", "err", err)
		return handover.Errorf(handover.EUNAVAILABLE, "Aliyun did not list the templates; try again later.")
	}
	return listJSON(c, list, "") // the provider's list, whole
}

type smsJSON struct {
	SignName     string            `json:"sign_name"`
	Type         string            `json:"type"`
	TemplateCode string            `json:"template_code"`
	Params       map[string]string `json:"params,omitempty"`
}

type wechatJSON struct {
	TemplateID string            `json:"template_id"`
	Fields     map[string]string `json:"fields,omitempty"`
	Subscribe  bool              `json:"subscribe"`
}

// contentJSON is a version's content, as written and as shown.
type contentJSON struct {
	Description string     `json:"description"`
	Subject     string     `json:"subject"`
	Body        string     `json:"body"`
	HTMLBody    string     `json:"html_body"`
	SMS         smsJSON    `json:"sms"`
	WeChat      wechatJSON `json:"wechat"`
}

func (c contentJSON) content() templates.Content {
	return templates.Content{Description: c.Description, Subject: c.Subject, Body: c.Body, HTMLBody: c.HTMLBody,
		SMS: templates.SMSMapping{SignName: c.SMS.SignName, Type: templates.SMSType(c.SMS.Type), TemplateCode: c.SMS.TemplateCode,
			Params: c.SMS.Params},
		WeChat: templates.WeChatMapping{TemplateID: c.WeChat.TemplateID, Fields: c.WeChat.Fields, Subscribe: c.WeChat.Subscribe}}
}

func toContentJSON(c templates.Content) contentJSON {
	return contentJSON{Description: c.Description, Subject: c.Subject, Body: c.Body, HTMLBody: c.HTMLBody,
		SMS:    smsJSON{SignName: c.SMS.SignName, Type: string(c.SMS.Type), TemplateCode: c.SMS.TemplateCode, Params: c.SMS.Params},
		WeChat: wechatJSON{TemplateID: c.WeChat.TemplateID, Fields: c.WeChat.Fields, Subscribe: c.WeChat.Subscribe}}
}

// templateInput is the body of a create or update. Kind, channel and
// locale are fixed at create; version, on update, is the version the edit
// started from (a conflict if another edit came first).
type templateInput struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Channel string `json:"channel"`
	Locale  string `json:"locale"`
	Version int    `json:"version"`
	contentJSON
}

type templateJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Channel    string `json:"channel"`
	Locale     string `json:"locale"`
	Version    int    `json:"version"`
	Archived   bool   `json:"archived"`
	DefaultKey string `json:"default_key,omitempty"`
	contentJSON
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Warnings  []string  `json:"warnings,omitempty"`
}

func toTemplateJSON(t *templates.Template) templateJSON {
	return templateJSON{ID: t.ID, Name: t.Name, Kind: string(t.Kind), Channel: string(t.Channel), Locale: t.Locale,
		Version: t.Version, Archived: t.Archived, DefaultKey: t.DefaultKey, contentJSON: toContentJSON(t.Content),
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, Warnings: t.Warnings}
}

// handleTemplateList lists templates, filtered by kind, channel and locale.
func (s *API) handleTemplateList(c echo.Context) error {
	f := templates.Filter{Kind: templates.Kind(c.QueryParam("kind")), Channel: channels.Name(c.QueryParam("channel")),
		Locale: c.QueryParam("locale"), IncludeArchived: c.QueryParam("archived") == "true"}
	list, err := s.templates.FindTemplates(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]templateJSON, len(list))
	for i, t := range list {
		out[i] = toTemplateJSON(t)
	}
	return listJSON(c, out, "") // every template matching, uncapped
}

// handleTemplateCreate checks and stores a new template as version 1.
func (s *API) handleTemplateCreate(c echo.Context) error {
	var req templateInput
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	t := &templates.Template{Name: req.Name, Kind: templates.Kind(req.Kind), Channel: channels.Name(req.Channel),
		Locale: req.Locale, Content: req.content()}
	if err := s.templates.CreateTemplate(c.Request().Context(), t, kit.Member(c).Actor()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/templates/"+t.ID)
	return c.JSON(http.StatusCreated, toTemplateJSON(t))
}

// handleTemplateView shows a template's latest version.
func (s *API) handleTemplateView(c echo.Context) error {
	t, err := s.templates.FindTemplateByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTemplateJSON(t))
}

// handleTemplateUpdate stores an edit as the next version.
func (s *API) handleTemplateUpdate(c echo.Context) error {
	var req templateInput
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Kind != "" || req.Channel != "" || req.Locale != "" {
		return handover.Errorf(handover.EINVALID, "kind, channel and locale cannot change; create a new template instead")
	}
	upd := templates.Update{Name: req.Name, Content: req.content(), BaseVersion: req.Version}
	t, err := s.templates.UpdateTemplate(c.Request().Context(), c.Param("id"), upd, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTemplateJSON(t))
}

// handleTemplateDelete archives a template; its versions stay.
func (s *API) handleTemplateDelete(c echo.Context) error {
	if err := s.templates.DeleteTemplate(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

type versionJSON struct {
	TemplateID string `json:"template_id"`
	Version    int    `json:"version"`
	Kind       string `json:"kind"`
	Channel    string `json:"channel"`
	Locale     string `json:"locale"`
	contentJSON
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// handleTemplateVersion shows one version, as a delivery that used it saw it.
func (s *API) handleTemplateVersion(c echo.Context) error {
	n, err := strconv.Atoi(c.Param("version"))
	if err != nil || n < 1 {
		return handover.Errorf(handover.EINVALID, "version must be a number from 1")
	}
	v, err := s.templates.FindTemplateVersion(c.Request().Context(), c.Param("id"), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, versionJSON{TemplateID: v.TemplateID, Version: v.Number, Kind: string(v.Kind),
		Channel: string(v.Channel), Locale: v.Locale, contentJSON: toContentJSON(v.Content), CreatedBy: v.CreatedBy, CreatedAt: v.CreatedAt})
}

type previewJSON struct {
	Version  int               `json:"version"`
	Subject  string            `json:"subject"`
	Text     string            `json:"text"`
	HTML     string            `json:"html"`
	Params   map[string]string `json:"params,omitempty"`
	Card     string            `json:"card,omitempty"`
	Chars    int               `json:"chars"`
	Segments int               `json:"segments"`
	Warnings []string          `json:"warnings"`
}

// handleTemplatePreview renders a template for a customer and transfer (or
// the samples); a real customer's fields come back masked.
func (s *API) handleTemplatePreview(c echo.Context) error {
	var req struct {
		CustomerID string `json:"customer_id"`
		TransferID string `json:"transfer_id"`
		Version    int    `json:"version"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	in := templates.PreviewInput{CustomerID: req.CustomerID, TransferID: req.TransferID, Version: req.Version}
	p, err := s.templates.Preview(c.Request().Context(), c.Param("id"), in, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	out := previewJSON{Version: p.Version, Subject: p.Subject, Text: p.Text, HTML: p.HTML, Card: p.Card, Chars: p.Chars,
		Segments: p.Segments, Warnings: append([]string{}, p.Warnings...)}
	if p.Provider != nil {
		out.Params = p.Provider.Params
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}
