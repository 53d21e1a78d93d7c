package incidents

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/templates"
)

// NoticeRequest asks for the notice to an incident's affected customers.
type NoticeRequest struct {
	// TransferID is the transfer the campaign belongs to (every campaign
	// belongs to one).
	TransferID string
	// Channels in fallback order.
	Channels []channels.Name
	// Locale of the default templates; "" is zh-CN.
	Locale string
	Actor  string
}

// Notifier drafts the notice to affected customers (PIPL Art. 57) as a
// campaign of kind incident_notice.
type Notifier struct {
	store     *Store
	campaigns *campaigns.Service
	templates *templates.Store
}

// NewNotifier returns a Notifier drafting campaigns through cs with the
// templates of ts.
func NewNotifier(s *Store, cs *campaigns.Service, ts *templates.Store) *Notifier {
	return &Notifier{store: s, campaigns: cs, templates: ts}
}

// DraftNotice drafts a campaign of kind incident_notice whose audience is
// exactly the incident's affected customers, using the default
// incident_notice template of each channel, and links it to the incident
// (its timeline and the audit log record it). Staff review and start it
// like any campaign. An incident has one notice campaign. A template that
// cannot be sent (an SMS without its Aliyun code, a WeChat template without
// its id) refuses the draft, naming it. The warnings say, per channel, how
// many affected customers it cannot reach, and how many no channel reaches.
func (n *Notifier) DraftNotice(ctx context.Context, incidentID string, req NoticeRequest) (*campaigns.Campaign, []string, error) {
	c, err := n.draft(ctx, incidentID, req)
	if err != nil {
		return nil, nil, err
	}
	warnings, err := n.reach(ctx, c)
	return c, warnings, err
}

func (n *Notifier) draft(ctx context.Context, incidentID string, req NoticeRequest) (*campaigns.Campaign, error) {
	in, err := n.store.FindIncidentByID(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if in.NoticeCampaign != "" {
		return nil, handover.Errorf(handover.ECONFLICT, "This incident already has its notice campaign %s.", in.NoticeCampaign)
	}
	affected, err := n.store.AffectedCustomers(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if len(affected) == 0 {
		return nil, handover.Errorf(handover.EINVALID, "The incident names no affected customer to notify.")
	}
	if req.TransferID == "" {
		return nil, handover.Errorf(handover.EINVALID, "transfer_id is required: the notice goes out as a campaign of a transfer.")
	}
	if len(req.Channels) == 0 {
		return nil, handover.Errorf(handover.EINVALID, "channels must name at least one channel.")
	}
	locale := req.Locale
	if locale == "" {
		locale = "zh-CN"
	}
	tmpl := map[channels.Name]string{}
	for _, ch := range req.Channels {
		id, err := n.defaultTemplate(ctx, ch, locale)
		if err != nil {
			return nil, err
		}
		tmpl[ch] = id
	}
	title := []rune(in.Title)
	if len(title) > 150 {
		title = title[:150]
	}
	c := &campaigns.Campaign{Name: "安全事件告知 Incident notice: " + string(title), TransferID: req.TransferID, Kind: templates.IncidentNotice,
		Channels: req.Channels, Templates: tmpl, Audience: campaigns.Audience{CustomerIDs: affected}}
	if err := n.campaigns.Create(ctx, c, req.Actor); err != nil {
		return nil, err
	}
	if err := n.store.SetNoticeCampaign(ctx, incidentID, c.ID, req.Actor); err != nil {
		// Another request linked its notice first: this draft goes.
		if cerr := n.campaigns.Cancel(ctx, c.ID, req.Actor); cerr != nil {
			return nil, fmt.Errorf("%w (and cancelling draft %s: %v)", err, c.ID, cerr)
		}
		return nil, err
	}
	return c, nil
}

// Unreached says how many of the affected customers a notice cannot
// reach: on one channel (no address for it, opted out or declined), or,
// with Channel "", on any channel of the notice.
type Unreached struct {
	Channel channels.Name
	Missed  int
	Total   int
}

// Reach counts, per channel of the notice campaign c and over all of
// them, the affected customers it will not reach; only shortfalls are
// listed, the all-channel one last.
func (n *Notifier) Reach(ctx context.Context, c *campaigns.Campaign) ([]Unreached, error) {
	var out []Unreached
	for _, ch := range c.Channels {
		one := *c
		one.Channels = []channels.Name{ch}
		p, err := n.campaigns.PreviewAudience(ctx, &one)
		if err != nil {
			return nil, err
		}
		if missed := p.Total - p.Queued; missed > 0 {
			out = append(out, Unreached{Channel: ch, Missed: missed, Total: p.Total})
		}
	}
	p, err := n.campaigns.PreviewAudience(ctx, c)
	if err != nil {
		return nil, err
	}
	if missed := p.Total - p.Queued; missed > 0 {
		out = append(out, Unreached{Missed: missed, Total: p.Total})
	}
	return out, nil
}

// reach is Reach as the API's warnings.
func (n *Notifier) reach(ctx context.Context, c *campaigns.Campaign) ([]string, error) {
	list, err := n.Reach(ctx, c)
	if err != nil {
		return nil, err
	}
	var warnings []string
	for _, u := range list {
		if u.Channel != "" {
			warnings = append(warnings, fmt.Sprintf("%s: %d of %d affected customers cannot be reached on this channel (no address for it, opted out or declined)",
				u.Channel, u.Missed, u.Total))
		} else {
			warnings = append(warnings, fmt.Sprintf("no channel of this notice reaches %d of %d affected customers: add a channel or notify them another way (PIPL Art. 57)",
				u.Missed, u.Total))
		}
	}
	return warnings, nil
}

// defaultTemplate picks the channel's current incident_notice template in
// locale: the shipped default when installed, else the first there is.
func (n *Notifier) defaultTemplate(ctx context.Context, ch channels.Name, locale string) (string, error) {
	list, err := n.templates.FindTemplates(ctx, templates.Filter{Kind: templates.IncidentNotice, Channel: ch, Locale: locale})
	if err != nil {
		return "", err
	}
	if len(list) == 0 {
		return "", handover.Errorf(handover.EINVALID, "No %s incident_notice template for channel %s: add one, or install the defaults.", locale, ch)
	}
	key := string(templates.IncidentNotice) + "/" + string(ch) + "/" + locale
	for _, t := range list {
		if t.DefaultKey == key {
			return t.ID, nil
		}
	}
	return list[0].ID, nil
}

// linkNotice sets the notice campaign unless one is set already.
func linkNotice(ctx context.Context, tx *database.Tx, id, campaignID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE incidents SET notice_campaign = $1, updated_at = $2 WHERE id = $3 AND notice_campaign = ''`,
		campaignID, tx.Now, id)
	if err != nil {
		return fmt.Errorf("incident notice: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var cur string
		if err := tx.QueryRowContext(ctx, `SELECT notice_campaign FROM incidents WHERE id = $1`, id).Scan(&cur); err != nil {
			return handover.Errorf(handover.ENOTFOUND, "Incident not found.")
		}
		if cur != campaignID {
			return handover.Errorf(handover.ECONFLICT, "This incident already has its notice campaign %s.", cur)
		}
	}
	return nil
}
