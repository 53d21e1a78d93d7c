package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/templates"
)

func templatesKind(s string) templates.Kind { return templates.Kind(s) }

// campaignForm is the create form's values, kept when it is shown again.
type campaignForm struct {
	Name, TransferID, Kind, Tag, Region, SendAt string
	QuietStart, QuietEnd, TimeZone              string
	Order, Template                             map[string]string
}

type channelChoice struct {
	Name      string
	Templates []*templates.Template
}

// channelPreview is one channel's message rendered with sample data.
type channelPreview struct {
	Channel  string
	Subject  string
	Text     string
	Chars    int
	Segments int
	Warnings []string
	Error    string
}

type campaignFormView struct {
	Form      campaignForm
	Transfers []*customers.Transfer
	Kinds     []templates.Kind
	Channels  []channelChoice
	Previews  []channelPreview
	// Audience counts who the campaign would reach now, with the skips.
	Audience *campaigns.AudiencePreview
	Error    string
}

func (s *Server) campaignFormPage(c echo.Context, status int, v campaignFormView) error {
	ctx := c.Request().Context()
	var err error
	if v.Transfers, err = s.customers.FindTransfers(ctx); err != nil {
		return err
	}
	v.Kinds = templates.Kinds
	for _, ch := range s.campaignChannels() {
		list, err := s.templates.FindTemplates(ctx, templates.Filter{Channel: ch})
		if err != nil {
			return err
		}
		v.Channels = append(v.Channels, channelChoice{Name: string(ch), Templates: list})
	}
	return s.render(c, status, "campaign_new", &page{Title: "campaign.new", Nav: "campaigns", Data: v})
}

// handleCampaignNewPage shows the create form. With ?kind=, the kind's
// default templates in the member's language are chosen for every channel
// (the empty campaign list links here for the transfer notice).
func (s *Server) handleCampaignNewPage(c echo.Context) error {
	// Quiet hours on by default: notices do not wake customers.
	f := campaignForm{Kind: c.QueryParam("kind"), QuietStart: "21:00", QuietEnd: "08:00", TimeZone: campaigns.DefaultTimeZone,
		Order: map[string]string{}, Template: map[string]string{}}
	if f.Kind == "" {
		f.Kind = string(templates.TransferNotice)
	}
	ctx := c.Request().Context()
	transfers, err := s.customers.FindTransfers(ctx)
	if err != nil {
		return err
	}
	if len(transfers) > 0 {
		f.TransferID = transfers[0].ID
	}
	if c.QueryParam("kind") != "" {
		f.Name = translate(member(c).Locale, "kind."+f.Kind)
		n := 0
		for _, ch := range s.campaignChannels() {
			key := f.Kind + "/" + string(ch) + "/" + member(c).Locale
			list, err := s.templates.FindTemplates(ctx, templates.Filter{Channel: ch, Kind: templates.Kind(f.Kind)})
			if err != nil {
				return err
			}
			for _, t := range list {
				if t.DefaultKey == key {
					n++
					f.Order[string(ch)], f.Template[string(ch)] = strconv.Itoa(n), t.ID
				}
			}
		}
	}
	return s.campaignFormPage(c, http.StatusOK, campaignFormView{Form: f})
}

// handleCampaignCreatePage previews (action=preview) or creates the
// campaign, scheduling it when a send time is given. Invalid input shows
// the form again with the reason.
func (s *Server) handleCampaignCreatePage(c echo.Context) error {
	ctx := c.Request().Context()
	f := campaignForm{Name: c.FormValue("name"), TransferID: c.FormValue("transfer_id"), Kind: c.FormValue("kind"),
		Tag: c.FormValue("tag"), Region: c.FormValue("region"), SendAt: c.FormValue("send_at"),
		QuietStart: c.FormValue("quiet_start"), QuietEnd: c.FormValue("quiet_end"), TimeZone: c.FormValue("time_zone"),
		Order: map[string]string{}, Template: map[string]string{}}
	for _, ch := range s.campaignChannels() {
		f.Order[string(ch)], f.Template[string(ch)] = c.FormValue("order_"+string(ch)), c.FormValue("template_"+string(ch))
	}
	v := campaignFormView{Form: f}
	cp, err := s.parseCampaignForm(c)
	if err == nil && c.FormValue("action") == "preview" {
		v.Previews = s.previewCampaign(c, cp)
		if v.Audience, err = s.campaigns.PreviewAudience(ctx, cp); err != nil {
			v.Error = errorText(c, err)
		}
		return s.campaignFormPage(c, http.StatusOK, v)
	}
	if err == nil {
		err = s.campaigns.Create(ctx, cp, member(c).Actor())
	}
	if err == nil && cp.SendAt != nil {
		err = s.campaigns.Schedule(ctx, cp.ID, *cp.SendAt, member(c).Actor())
	}
	if code := handover.ErrorCode(err); code == handover.EINVALID || code == handover.ECONFLICT {
		v.Error = errorText(c, err)
		return s.campaignFormPage(c, http.StatusBadRequest, v)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/campaigns/"+cp.ID+"?done=created")
}

// previewCampaign renders each chosen channel's template with sample data
// and the campaign's transfer, with the SMS segment count.
func (s *Server) previewCampaign(c echo.Context, cp *campaigns.Campaign) []channelPreview {
	var out []channelPreview
	for _, ch := range cp.Channels {
		p := channelPreview{Channel: string(ch)}
		pv, err := s.templates.Preview(c.Request().Context(), cp.Templates[ch], templates.PreviewInput{TransferID: cp.TransferID}, member(c).Actor())
		if err != nil {
			p.Error = errorText(c, err)
		} else {
			p.Subject, p.Text, p.Chars, p.Segments, p.Warnings = pv.Subject, pv.Text, pv.Chars, pv.Segments, pv.Warnings
			if pv.Card != "" { // a WeChat notice as WeChat shows it
				p.Text = pv.Card
			}
		}
		if ch != channels.SMS && ch != channels.Devbox {
			p.Chars, p.Segments = 0, 0
		}
		out = append(out, p)
	}
	return out
}
