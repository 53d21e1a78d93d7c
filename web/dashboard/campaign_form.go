package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

func templatesKind(s string) templates.Kind { return templates.Kind(s) }

// campaignForm is the create and edit form's values, kept when it is
// shown again.
type campaignForm struct {
	Name, TransferID, Kind, Purpose, Tag, Region, ImportID, SendAt string
	ConsentPurpose, ConsentDecision                                string
	// ListIDs is the uploaded list resolved to customer ids, one a line,
	// carried in a hidden field between preview and save.
	ListIDs                        string
	QuietStart, QuietEnd, TimeZone string
	SurveyNPS, SurveyCSAT          bool
	SurveyQuestion, LinkTTLDays    string
	Order, Template, Rate          map[string]string
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
	// Cost is an SMS message's price and Total the audience's on this
	// channel, in yuan (HANDOVER_SMS_SEGMENT_PRICE per billed segment).
	Cost, Total string
}

// purposeChoice is a purpose of a transfer, for the form's selects.
type purposeChoice struct {
	Transfer string // the transfer's label
	Purposes []string
}

type campaignFormView struct {
	// ID is the campaign being edited, "" for a new one; Action is where
	// the form posts.
	ID, Action string
	Form       campaignForm
	Transfers  []*transfers.Transfer
	Purposes   []purposeChoice
	Kinds      []templates.Kind
	Decisions  []string
	Channels   []channelChoice
	Previews   []channelPreview
	// Audience counts who the campaign would reach now, with the skips.
	Audience *campaigns.AudiencePreview
	// List is what an uploaded list gave.
	List     *listResult
	ListSize int
	// Imports are the recent import batches an audience can name.
	Imports []importChoice
	// Zone names the time zone the send time is read in.
	Zone  string
	Error string
	// Locked: the campaign started, so the form cannot save it.
	Locked bool
}

// importChoice is an import batch as the audience select shows it.
type importChoice struct {
	ID, FileName string
	Created      int64
	At           time.Time
}

// recentImports lists the last 100 completed import batches, newest first.
func (s *Dashboard) recentImports(ctx context.Context) ([]importChoice, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (importChoice, error) {
		var ic importChoice
		err := row.Scan(&ic.ID, &ic.FileName, &ic.Created, &ic.At)
		return ic, err
	}, `SELECT id, file_name, created_count, created_at FROM imports WHERE status = 'completed'
		ORDER BY created_at DESC LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("recent imports: %w", err)
	}
	return out, nil
}

// NeedsPurpose reports whether the form's kind needs a purpose.
func (v campaignFormView) NeedsPurpose() bool { return v.Form.Kind == string(templates.ConsentRequest) }

func (s *Dashboard) campaignFormPage(c echo.Context, status int, v campaignFormView) error {
	ctx := c.Request().Context()
	var err error
	if v.Transfers, err = s.transfers.FindTransfers(ctx); err != nil {
		return err
	}
	for _, t := range v.Transfers {
		v.Purposes = append(v.Purposes, purposeChoice{Transfer: t.SellerName + " → " + t.BuyerName, Purposes: t.Purposes})
	}
	v.Kinds = templates.Kinds
	v.Decisions = []string{customers.ConsentGranted, customers.ConsentDeclined, customers.ConsentWithdrawn, campaigns.ConsentUndecided}
	v.Zone = loadZone(member(c).TimeZone).String()
	if v.Imports, err = s.recentImports(ctx); err != nil {
		return err
	}
	if v.Action == "" {
		v.Action = "/campaigns"
	}
	for _, ch := range s.campaignChannels() {
		list, err := s.templates.FindTemplates(ctx, templates.Filter{Channel: ch, Kind: templates.Kind(v.Form.Kind)})
		if err != nil {
			return err
		}
		v.Channels = append(v.Channels, channelChoice{Name: string(ch), Templates: list})
	}
	v.ListSize = len(splitIDs(v.Form.ListIDs))
	title := "campaign.new"
	if v.ID != "" {
		title = "mk.edit_title"
	}
	return s.render(c, status, "campaign_new", &page{Title: title, Nav: "campaigns", Data: v})
}

// newCampaignForm is an empty form for kind: quiet hours on (notices do
// not wake customers), the first transfer, and per channel the kind's
// template in the member's language, the default one first.
func (s *Dashboard) newCampaignForm(c echo.Context, kind string) (campaignForm, error) {
	f := campaignForm{Kind: kind, QuietStart: "21:00", QuietEnd: "08:00", TimeZone: campaigns.DefaultTimeZone, SurveyNPS: true,
		Order: map[string]string{}, Template: map[string]string{}, Rate: map[string]string{}}
	if !slices.Contains(templates.Kinds, templates.Kind(f.Kind)) {
		f.Kind = string(templates.TransferNotice)
	}
	ctx := c.Request().Context()
	transfers, err := s.transfers.FindTransfers(ctx)
	if err != nil {
		return f, err
	}
	if len(transfers) > 0 {
		f.TransferID = transfers[0].ID
		if f.Kind == string(templates.ConsentRequest) && len(transfers[0].Purposes) > 0 {
			f.Purpose = transfers[0].Purposes[0]
		}
	}
	f.Name = translate(member(c).Locale, "kind."+f.Kind)
	locale := member(c).Locale
	n := 0
	for _, ch := range s.campaignChannels() {
		list, err := s.templates.FindTemplates(ctx, templates.Filter{Channel: ch, Kind: templates.Kind(f.Kind)})
		if err != nil {
			return f, err
		}
		best := -1
		for i, t := range list {
			if t.Locale != locale {
				continue
			}
			if best < 0 || (t.DefaultKey != "" && list[best].DefaultKey == "") {
				best = i
			}
		}
		if best >= 0 {
			n++
			f.Order[string(ch)], f.Template[string(ch)] = strconv.Itoa(n), list[best].ID
		}
	}
	return f, nil
}

// handleCampaignNewPage shows the create form for the kind in ?kind=
// (default the transfer notice; the empty campaign list links here).
func (s *Dashboard) handleCampaignNewPage(c echo.Context) error {
	f, err := s.newCampaignForm(c, c.QueryParam("kind"))
	if err != nil {
		return err
	}
	return s.campaignFormPage(c, http.StatusOK, campaignFormView{Form: f})
}

// handleCampaignCreatePage previews (action=preview) or creates the
// campaign, scheduling it when a send time is given. Invalid input shows
// the form again with the reason and stores nothing.
func (s *Dashboard) handleCampaignCreatePage(c echo.Context) error {
	return s.saveCampaignForm(c, campaignFormView{})
}

// handleCampaignEditPage shows a draft or scheduled campaign in the form.
func (s *Dashboard) handleCampaignEditPage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	ps, err := s.campaigns.PortalSettingsOf(ctx, cp.ID)
	if err != nil {
		return err
	}
	list, err := s.campaigns.AudienceList(ctx, cp.ID)
	if err != nil {
		return err
	}
	f := campaignForm{Name: cp.Name, TransferID: cp.TransferID, Kind: string(cp.Kind), Purpose: cp.Purpose,
		Tag: strings.Join(cp.Audience.Tags, ", "), Region: cp.Audience.Region, ImportID: cp.Audience.ImportID,
		ListIDs: strings.Join(list, "\n"), TimeZone: cp.TimeZone, SurveyNPS: ps.Survey.NPS, SurveyCSAT: ps.Survey.CSAT,
		SurveyQuestion: ps.Survey.Question, Order: map[string]string{}, Template: map[string]string{}, Rate: map[string]string{}}
	if ps.LinkTTLDays > 0 {
		f.LinkTTLDays = strconv.Itoa(ps.LinkTTLDays)
	}
	if len(cp.Audience.Consent) > 0 {
		f.ConsentPurpose, f.ConsentDecision = cp.Audience.Consent[0].Purpose, cp.Audience.Consent[0].Decision
	}
	if cp.Quiet != nil {
		f.QuietStart, f.QuietEnd = campaigns.Clock(cp.Quiet.Start), campaigns.Clock(cp.Quiet.End)
	}
	if cp.SendAt != nil {
		f.SendAt = cp.SendAt.In(loadZone(member(c).TimeZone)).Format("2006-01-02T15:04")
	}
	for i, ch := range cp.Channels {
		f.Order[string(ch)], f.Template[string(ch)] = strconv.Itoa(i+1), cp.Templates[ch]
		if r := cp.Rates[ch]; r > 0 {
			f.Rate[string(ch)] = strconv.Itoa(r)
		}
	}
	// Another kind (the kind step): that kind's templates, chosen afresh.
	if k := c.QueryParam("kind"); k != "" && k != f.Kind {
		nf, err := s.newCampaignForm(c, k)
		if err != nil {
			return err
		}
		f.Kind, f.Order, f.Template = nf.Kind, nf.Order, nf.Template
		if f.Purpose == "" {
			f.Purpose = nf.Purpose
		}
	}
	v := campaignFormView{ID: cp.ID, Action: "/campaigns/" + cp.ID + "/edit", Form: f}
	if cp.Status != campaigns.StatusDraft && cp.Status != campaigns.StatusScheduled {
		// Shown, to copy from, but it cannot be saved: it started.
		v.Locked, v.Error = true, translate(member(c).Locale, "mk.not_editable")
	}
	return s.campaignFormPage(c, http.StatusOK, v)
}

// handleCampaignUpdatePage previews or saves an edited campaign.
func (s *Dashboard) handleCampaignUpdatePage(c echo.Context) error {
	id := c.Param("id")
	if _, err := s.campaigns.FindCampaignByID(c.Request().Context(), id); err != nil {
		return err
	}
	return s.saveCampaignForm(c, campaignFormView{ID: id, Action: "/campaigns/" + id + "/edit"})
}

// saveCampaignForm reads the posted form into v and previews it, creates
// the campaign (v.ID "") or updates it.
func (s *Dashboard) saveCampaignForm(c echo.Context, v campaignFormView) error {
	ctx := c.Request().Context()
	f := readCampaignForm(c, s.campaignChannels())
	v.Form = f
	cp, ps, err := s.parseCampaignForm(c, f)
	if err == nil {
		// An uploaded list replaces the one carried from before.
		if fh, ferr := c.FormFile("list"); ferr == nil && fh.Size > 0 {
			file, oerr := fh.Open()
			if oerr != nil {
				return oerr
			}
			entries, bad, perr := parseAudienceList(file)
			file.Close()
			if perr != nil {
				err = perr
			} else {
				res, rerr := s.resolveAudienceList(ctx, entries, bad)
				if rerr != nil {
					return rerr
				}
				v.List = &res
				v.Form.ListIDs = strings.Join(res.IDs, "\n")
				cp.Audience.CustomerIDs = res.IDs
				if len(res.IDs) == 0 {
					err = pageError(handover.EINVALID, "mk.list_empty")
				}
			}
		}
	}
	if err == nil && c.FormValue("action") == "preview" {
		v.Previews = s.previewCampaign(c, cp)
		if v.Audience, err = s.campaigns.PreviewAudience(ctx, cp); err != nil {
			v.Error = errorText(c, err)
		}
		for i, p := range v.Previews {
			// The devbox stands in for SMS in embedded mode: priced alike.
			if (p.Channel == string(channels.SMS) || p.Channel == string(channels.Devbox)) && p.Segments > 0 {
				per := float64(p.Segments) * s.cfg.Channels.SMSSegmentPrice
				v.Previews[i].Cost = strconv.FormatFloat(per, 'f', 3, 64)
				if v.Audience != nil {
					v.Previews[i].Total = strconv.FormatFloat(per*float64(v.Audience.ByChannel[p.Channel]), 'f', 2, 64)
				}
			}
		}
		return s.campaignFormPage(c, http.StatusOK, v)
	}
	if err == nil && v.ID == "" {
		if err = s.campaigns.Create(ctx, cp, member(c).Actor()); err == nil && cp.SendAt != nil {
			err = s.campaigns.Schedule(ctx, cp.ID, *cp.SendAt, member(c).Actor())
		}
	} else if err == nil {
		cp.ID = v.ID
		err = s.campaigns.Update(ctx, cp, member(c).Actor())
	}
	if err == nil {
		_, err = s.campaigns.SetPortalSettings(ctx, cp.ID, ps, member(c).Actor())
	}
	if code := handover.ErrorCode(err); code == handover.EINVALID || code == handover.ECONFLICT || code == handover.ETOOLARGE {
		v.Error = errorText(c, err)
		return s.campaignFormPage(c, http.StatusBadRequest, v)
	} else if err != nil {
		return err
	}
	done := "created"
	if v.ID != "" {
		done = "mk_saved"
	}
	return c.Redirect(http.StatusSeeOther, "/campaigns/"+cp.ID+"?done="+done)
}

// readCampaignForm reads the posted form's values as they were typed.
func readCampaignForm(c echo.Context, chans []channels.Name) campaignForm {
	f := campaignForm{Name: c.FormValue("name"), TransferID: c.FormValue("transfer_id"), Kind: c.FormValue("kind"),
		Purpose: c.FormValue("purpose"), Tag: c.FormValue("tag"), Region: c.FormValue("region"), ImportID: c.FormValue("import_id"),
		ConsentPurpose: c.FormValue("consent_purpose"), ConsentDecision: c.FormValue("consent_decision"),
		ListIDs: c.FormValue("list_ids"), SendAt: c.FormValue("send_at"),
		QuietStart: c.FormValue("quiet_start"), QuietEnd: c.FormValue("quiet_end"), TimeZone: c.FormValue("time_zone"),
		SurveyNPS: c.FormValue("survey_nps") != "", SurveyCSAT: c.FormValue("survey_csat") != "",
		SurveyQuestion: c.FormValue("survey_question"), LinkTTLDays: c.FormValue("link_ttl_days"),
		Order: map[string]string{}, Template: map[string]string{}, Rate: map[string]string{}}
	if c.FormValue("clear_list") != "" {
		f.ListIDs = ""
	}
	for _, ch := range chans {
		f.Order[string(ch)], f.Template[string(ch)] = c.FormValue("order_"+string(ch)), c.FormValue("template_"+string(ch))
		f.Rate[string(ch)] = c.FormValue("rate_" + string(ch))
	}
	return f
}

// parseCampaignForm turns the form into a campaign and its portal
// settings: channels are those given an order number, sorted by it.
func (s *Dashboard) parseCampaignForm(c echo.Context, f campaignForm) (*campaigns.Campaign, campaigns.PortalSettings, error) {
	invalid := func(key string) error { return pageError(handover.EINVALID, key) }
	cp := &campaigns.Campaign{Name: f.Name, TransferID: f.TransferID, Kind: templatesKind(f.Kind), Purpose: strings.TrimSpace(f.Purpose),
		Templates: map[channels.Name]string{}, Rates: map[channels.Name]int{},
		Audience: campaigns.Audience{Tags: splitTags(f.Tag), Region: strings.TrimSpace(f.Region), ImportID: strings.TrimSpace(f.ImportID)}}
	var ps campaigns.PortalSettings
	if !slices.Contains(templates.Kinds, cp.Kind) {
		return nil, ps, invalid("mk.bad_kind")
	}
	if cp.Kind == templates.ConsentRequest && cp.Purpose == "" {
		return nil, ps, invalid("mk.purpose_required")
	}
	if p := strings.TrimSpace(f.ConsentPurpose); p != "" {
		cp.Audience.Consent = []campaigns.ConsentFilter{{Purpose: p, Decision: f.ConsentDecision}}
	}
	if ids := splitIDs(f.ListIDs); len(ids) > 0 {
		for _, id := range ids {
			if _, err := ulid.ParseStrict(id); err != nil {
				return nil, ps, invalid("mk.list_bad")
			}
		}
		cp.Audience.CustomerIDs = ids
	}
	type ordered struct {
		ch channels.Name
		n  int
	}
	var order []ordered
	for _, ch := range s.campaignChannels() {
		n, err := strconv.Atoi(f.Order[string(ch)])
		if err != nil || n < 1 {
			continue
		}
		order = append(order, ordered{ch, n})
		cp.Templates[ch] = f.Template[string(ch)]
		if r := strings.TrimSpace(f.Rate[string(ch)]); r != "" {
			rate, err := strconv.Atoi(r)
			if err != nil || rate < 0 || rate > 100000 {
				return nil, ps, invalid("mk.bad_rate")
			}
			cp.Rates[ch] = rate
		}
	}
	slices.SortStableFunc(order, func(a, b ordered) int { return a.n - b.n })
	for _, o := range order {
		cp.Channels = append(cp.Channels, o.ch)
	}
	cp.TimeZone = strings.TrimSpace(f.TimeZone)
	if f.QuietStart != "" || f.QuietEnd != "" {
		q, err := campaigns.ParseQuietHours(f.QuietStart, f.QuietEnd)
		if err != nil {
			return nil, ps, err
		}
		cp.Quiet = q
	}
	if f.SendAt != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", f.SendAt, loadZone(member(c).TimeZone))
		if err != nil {
			return nil, ps, invalid("mk.bad_send_at")
		}
		// Checked before the campaign is stored, so a past time does not
		// leave a draft behind for the form to create again.
		if !t.After(time.Now()) {
			return nil, ps, invalid("mk.past_send_at")
		}
		cp.SendAt = &t
	}
	ps.Survey = links.Survey{NPS: f.SurveyNPS, CSAT: f.SurveyCSAT, Question: strings.TrimSpace(f.SurveyQuestion)}
	if d := strings.TrimSpace(f.LinkTTLDays); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return nil, ps, invalid("mk.bad_ttl")
		}
		ps.LinkTTLDays = n
	}
	if err := campaigns.CheckPortalSettings(ps); err != nil {
		return nil, ps, invalid("mk.bad_ttl")
	}
	return cp, ps, nil
}

// pageError is an error whose text is a key of the marketer's catalog, so
// errorText words it in the reader's language (English in the message).
func pageError(code, key string) error {
	return &handover.Error{Code: code, Message: translate("en", key), Key: key}
}

// splitIDs reads the carried list: ids separated by white space or commas.
func splitIDs(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' || r == ' ' || r == '\t' })
}

// previewCampaign renders each chosen channel's template with sample data
// and the campaign's transfer, with the SMS segment count.
func (s *Dashboard) previewCampaign(c echo.Context, cp *campaigns.Campaign) []channelPreview {
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
