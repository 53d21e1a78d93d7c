package dashboard

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/templates"
)

// templateForm is the create and edit form's values, kept when it is shown
// again. Params and Fields are "name = value" lines.
type templateForm struct {
	ID, Name, Kind, Channel, Locale, Version string
	Description, Subject, Body, HTMLBody     string
	SignName, SMSType, TemplateCode, Params  string
	WeChatID, Fields                         string
	Subscribe                                bool
}

type templateFormView struct {
	Form     templateForm
	Kinds    []templates.Kind
	Channels []channels.Name
	Locales  []string
	SMSTypes []templates.SMSType
	// Problems are why the last save was refused, one per line.
	Problems []string
}

func (s *Dashboard) templateFormPage(c echo.Context, status int, f templateForm, problems []string) error {
	v := templateFormView{Form: f, Kinds: templates.Kinds, Channels: templates.Channels, Locales: templates.Locales,
		SMSTypes: []templates.SMSType{templates.SMSNotice, templates.SMSPromotional, templates.SMSCode}, Problems: problems}
	return s.render(c, status, "template_form", &page{Title: "nav.templates", Nav: "templates", Data: v})
}

// handleTemplateNewPage shows an empty form, in the member's language.
func (s *Dashboard) handleTemplateNewPage(c echo.Context) error {
	f := templateForm{Kind: c.QueryParam("kind"), Channel: c.QueryParam("channel"), Locale: member(c).Locale}
	if f.Kind == "" {
		f.Kind = string(templates.Generic)
	}
	if f.Channel == "" {
		f.Channel = string(channels.Email)
	}
	return s.templateFormPage(c, http.StatusOK, f, nil)
}

// handleTemplateEditPage shows the latest version in the form.
func (s *Dashboard) handleTemplateEditPage(c echo.Context) error {
	t, err := s.templates.FindTemplateByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	f := templateForm{ID: t.ID, Name: t.Name, Kind: string(t.Kind), Channel: string(t.Channel), Locale: t.Locale,
		Version: strconv.Itoa(t.Version), Description: t.Description, Subject: t.Subject, Body: t.Body, HTMLBody: t.HTMLBody,
		SignName: t.SMS.SignName, SMSType: string(t.SMS.Type), TemplateCode: t.SMS.TemplateCode, Params: formatMapping(t.SMS.Params),
		WeChatID: t.WeChat.TemplateID, Fields: formatMapping(t.WeChat.Fields), Subscribe: t.WeChat.Subscribe}
	return s.templateFormPage(c, http.StatusOK, f, nil)
}

func readTemplateForm(c echo.Context) templateForm {
	return templateForm{ID: c.Param("id"), Name: c.FormValue("name"), Kind: c.FormValue("kind"), Channel: c.FormValue("channel"),
		Locale: c.FormValue("locale"), Version: c.FormValue("version"), Description: c.FormValue("description"),
		Subject: c.FormValue("subject"), Body: c.FormValue("body"), HTMLBody: c.FormValue("html_body"),
		SignName: c.FormValue("sign_name"), SMSType: c.FormValue("sms_type"), TemplateCode: c.FormValue("template_code"),
		Params: c.FormValue("params"), WeChatID: c.FormValue("wechat_template_id"), Fields: c.FormValue("fields"),
		Subscribe: c.FormValue("subscribe") == "on"}
}

// content reads the form's content; a malformed mapping is EINVALID.
func (f templateForm) content() (templates.Content, error) {
	params, err := parseMapping(f.Params)
	if err != nil {
		return templates.Content{}, err
	}
	fields, err := parseMapping(f.Fields)
	if err != nil {
		return templates.Content{}, err
	}
	return templates.Content{Description: f.Description, Subject: f.Subject, Body: f.Body, HTMLBody: f.HTMLBody,
		SMS:    templates.SMSMapping{SignName: f.SignName, Type: templates.SMSType(f.SMSType), TemplateCode: f.TemplateCode, Params: params},
		WeChat: templates.WeChatMapping{TemplateID: f.WeChatID, Fields: fields, Subscribe: f.Subscribe}}, nil
}

// handleTemplateCreatePage checks and stores a new template as version 1.
func (s *Dashboard) handleTemplateCreatePage(c echo.Context) error {
	f := readTemplateForm(c)
	content, err := f.content()
	if err == nil {
		t := &templates.Template{Name: f.Name, Kind: templates.Kind(f.Kind), Channel: channels.Name(f.Channel), Locale: f.Locale, Content: content}
		if err = s.templates.CreateTemplate(c.Request().Context(), t, member(c).Actor()); err == nil {
			return c.Redirect(http.StatusSeeOther, "/templates/"+t.ID+"?done=template_created")
		}
	}
	return s.templateFormError(c, f, err)
}

// handleTemplateSavePage stores an edit as the next version; an edit made
// from an older version than the latest is refused, not merged.
func (s *Dashboard) handleTemplateSavePage(c echo.Context) error {
	f := readTemplateForm(c)
	base, _ := strconv.Atoi(f.Version)
	content, err := f.content()
	if err == nil {
		upd := templates.Update{Name: f.Name, Content: content, BaseVersion: base}
		if _, err = s.templates.UpdateTemplate(c.Request().Context(), f.ID, upd, member(c).Actor()); err == nil {
			return c.Redirect(http.StatusSeeOther, "/templates/"+f.ID+"?done=template_saved")
		}
	}
	if t, ferr := s.templates.FindTemplateByID(c.Request().Context(), f.ID); ferr == nil {
		f.Kind, f.Channel, f.Locale = string(t.Kind), string(t.Channel), t.Locale
	}
	return s.templateFormError(c, f, err)
}

// templateFormError shows the form again with why it was refused, one
// problem a line; other errors go to the error page.
func (s *Dashboard) templateFormError(c echo.Context, f templateForm, err error) error {
	switch handover.ErrorCode(err) {
	case handover.EINVALID, handover.ECONFLICT:
		lines := []string{errorText(c, err)}
		var checks *templates.CheckError
		if errors.As(err, &checks) {
			lines = lines[:0]
			for _, p := range checks.Problems {
				lines = append(lines, errorText(c, p))
			}
		}
		return s.templateFormPage(c, http.StatusBadRequest, f, lines)
	}
	return err
}

// parseMapping reads "name = value" lines (a provider's variables or a
// WeChat template's fields); blank lines are skipped. A line without "=",
// an empty name or a name given twice is EINVALID naming the line.
func parseMapping(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		_, dup := out[name]
		switch {
		case !ok || name == "":
			return nil, handover.Errorf(handover.EINVALID, "line %d: write each variable as name = value", i+1)
		case dup:
			return nil, handover.Errorf(handover.EINVALID, "line %d: %s is given twice", i+1, name)
		}
		out[name] = value
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// formatMapping writes a mapping as parseMapping reads it, names sorted.
func formatMapping(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, "%s = %s\n", k, m[k])
	}
	return b.String()
}
