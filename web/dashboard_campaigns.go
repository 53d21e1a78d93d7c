package web

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
)

func (s *Server) registerCampaignPages() {
	s.pageRoute(http.MethodGet, "/campaigns", s.handleCampaignsPage, staff.ReadCampaigns)
	s.pageRoute(http.MethodGet, "/campaigns/new", s.handleCampaignNewPage, staff.WriteCampaigns)
	s.pageRoute(http.MethodPost, "/campaigns", s.handleCampaignCreatePage, staff.WriteCampaigns)
	s.pageRoute(http.MethodGet, "/campaigns/:id", s.handleCampaignPage, staff.ReadCampaigns)
	s.pageRoute(http.MethodGet, "/campaigns/:id/progress", s.handleCampaignProgress, staff.ReadCampaigns)
	actions := map[string]func(c echo.Context, id, actor string) error{
		"start": func(c echo.Context, id, actor string) error {
			return s.campaigns.Start(c.Request().Context(), id, actor)
		},
		"pause": func(c echo.Context, id, actor string) error {
			return s.campaigns.Pause(c.Request().Context(), id, actor)
		},
		"resume": func(c echo.Context, id, actor string) error {
			return s.campaigns.Resume(c.Request().Context(), id, actor)
		},
		"cancel": func(c echo.Context, id, actor string) error {
			return s.campaigns.Cancel(c.Request().Context(), id, actor)
		},
	}
	for name, fn := range actions {
		s.pageRoute(http.MethodPost, "/campaigns/:id/"+name, s.handleCampaignActionPage(name, fn), staff.WriteCampaigns)
	}
}

// campaignRow is a campaign with its progress, as lists and pages show it.
type campaignRow struct {
	*campaigns.Campaign
	progress
}

// progress is how far a campaign's deliveries have come.
type progress struct {
	State   string         `json:"status"`
	Total   int            `json:"total"`
	Done    int            `json:"done"`
	Percent int            `json:"percent"`
	Counts  map[string]int `json:"counts"`
	Live    bool           `json:"live"`
}

// pending delivery statuses: not yet handed to a provider.
var pendingStatuses = []string{"planned", "queued"}

func newProgress(status string, counts map[string]int) progress {
	p := progress{State: status, Counts: counts}
	for _, n := range counts {
		p.Total += n
	}
	p.Done = p.Total
	for _, st := range pendingStatuses {
		p.Done -= counts[st]
	}
	p.Percent = percent(p.Done, p.Total)
	p.Live = status == campaigns.StatusRunning || status == campaigns.StatusScheduled
	return p
}

// handleCampaignsPage lists campaigns with their progress bars; with none,
// it offers the transfer notice from the default templates.
func (s *Server) handleCampaignsPage(c echo.Context) error {
	ctx := c.Request().Context()
	list, err := s.campaigns.FindCampaigns(ctx, c.QueryParam("status"))
	if err != nil {
		return err
	}
	rows := make([]campaignRow, len(list))
	for i, cp := range list {
		counts, err := s.campaigns.Progress(ctx, cp.ID)
		if err != nil {
			return err
		}
		rows[i] = campaignRow{cp, newProgress(cp.Status, counts)}
	}
	return s.render(c, http.StatusOK, "campaigns", &page{Title: "nav.campaigns", Nav: "campaigns", Data: rows})
}

// campaignView is a campaign page: progress, per-channel bars, funnel.
type campaignView struct {
	campaignRow
	Channels []channelBars
	Funnel   []funnelStep
	Skipped  map[string]int
	Health   campaigns.Health
}

// channelBars is one channel's deliveries by status, drawn as SVG bars.
type channelBars struct {
	Channel string
	Bars    []bar
}

type bar struct {
	Label string
	Count int
	Width int // of 300 px
	Class string
}

type funnelStep struct {
	Label   string
	Count   int
	Width   int
	Percent int
}

// outcome statuses in the order the charts show them.
var chartStatuses = []string{"queued", "sent", "delivered", "failed", "bounced", "suppressed"}

func (s *Server) handleCampaignPage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	st, err := s.campaigns.Stats(ctx, cp.ID)
	if err != nil {
		return err
	}
	v := campaignView{campaignRow: campaignRow{cp, newProgress(cp.Status, st.ByStatus)}, Skipped: st.SkippedByReason}
	for _, ch := range cp.Channels {
		counts := st.ByChannel[string(ch)]
		max := 0
		for _, n := range counts {
			max = maxInt(max, n)
		}
		cb := channelBars{Channel: string(ch)}
		for _, status := range chartStatuses {
			cb.Bars = append(cb.Bars, bar{Label: status, Count: counts[status], Width: scale(counts[status], max, 300), Class: status})
		}
		v.Channels = append(v.Channels, cb)
	}
	v.Funnel = funnel(st.ByStatus, st.Funnel)
	if v.Health, err = s.campaigns.Health(ctx, cp); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "campaign", &page{Title: "nav.campaigns", Nav: "campaigns", Flash: c.QueryParam("done"), Data: v})
}

// funnel counts recipients reached at each step: planned, sent (handed to
// a provider), delivered (confirmed by a receipt), then on the portal:
// opened their link, consented from it.
func funnel(by map[string]int, portal campaigns.Funnel) []funnelStep {
	planned := 0
	for status, n := range by {
		if status != "skipped" {
			planned += n
		}
	}
	sent := by["sent"] + by["delivered"] + by["bounced"]
	steps := []funnelStep{{Label: "funnel.planned", Count: planned}, {Label: "funnel.sent", Count: sent},
		{Label: "funnel.delivered", Count: by["delivered"]}, {Label: "funnel.opened", Count: portal.Opened},
		{Label: "funnel.consented", Count: portal.Consented}}
	for i := range steps {
		steps[i].Width = scale(steps[i].Count, planned, 300)
		steps[i].Percent = percent(steps[i].Count, planned)
	}
	return steps
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// scale maps n of max onto width pixels, at least 1 for any n > 0.
func scale(n, max, width int) int {
	if max <= 0 || n <= 0 {
		return 0
	}
	return maxInt(1, n*width/max)
}

// handleCampaignProgress answers the page's polling script with the
// campaign's progress as JSON.
func (s *Server) handleCampaignProgress(c echo.Context) error {
	cp, counts, err := s.campaignProgress(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, newProgress(cp.Status, counts))
}

// campaignProgress loads the campaign named in the path and its progress
// counters (campaigns.Service.Progress), for the dashboard's poll and the
// API's.
func (s *Server) campaignProgress(c echo.Context) (*campaigns.Campaign, map[string]int, error) {
	ctx := c.Request().Context()
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	counts, err := s.campaigns.Progress(ctx, cp.ID)
	return cp, counts, err
}

func (s *Server) handleCampaignActionPage(name string, fn func(c echo.Context, id, actor string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := fn(c, c.Param("id"), member(c).Actor()); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/campaigns/"+c.Param("id")+"?done="+name)
	}
}

// campaignChannels are the channels this server can send through, in the
// order the form offers them.
func (s *Server) campaignChannels() []channels.Name {
	var out []channels.Name
	if s.cfg.Channels.WeChatOn() {
		out = append(out, channels.WeChat)
	}
	if s.cfg.Channels.SMSOn() {
		out = append(out, channels.SMS)
	}
	if s.cfg.Channels.EmailOn() {
		out = append(out, channels.Email)
	}
	if s.devbox != nil {
		out = append(out, channels.Devbox)
	}
	return out
}

// parseCampaignForm reads the create form: channels are those given an
// order number, sorted by it.
func (s *Server) parseCampaignForm(c echo.Context) (*campaigns.Campaign, error) {
	cp := &campaigns.Campaign{Name: c.FormValue("name"), TransferID: c.FormValue("transfer_id"),
		Kind: templatesKind(c.FormValue("kind")), Templates: map[channels.Name]string{},
		Audience: campaigns.Audience{Tags: splitTags(c.FormValue("tag")), Region: strings.TrimSpace(c.FormValue("region"))}}
	order := map[channels.Name]int{}
	for _, ch := range s.campaignChannels() {
		n, err := strconv.Atoi(c.FormValue("order_" + string(ch)))
		if err != nil || n < 1 {
			continue
		}
		order[ch] = n
		cp.Channels = append(cp.Channels, ch)
		cp.Templates[ch] = c.FormValue("template_" + string(ch))
	}
	sort.SliceStable(cp.Channels, func(i, j int) bool { return order[cp.Channels[i]] < order[cp.Channels[j]] })
	cp.TimeZone = strings.TrimSpace(c.FormValue("time_zone"))
	if start, end := c.FormValue("quiet_start"), c.FormValue("quiet_end"); start != "" || end != "" {
		q, err := campaigns.ParseQuietHours(start, end)
		if err != nil {
			return nil, err
		}
		cp.Quiet = q
	}
	if v := c.FormValue("send_at"); v != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", v, loadZone(member(c).TimeZone))
		if err != nil {
			return nil, handover.Errorf(handover.EINVALID, "Send time must be a date and time such as 2026-12-01T09:00.")
		}
		// Checked before the campaign is stored, so a past time does not
		// leave a draft behind for the form to create again.
		if !t.After(time.Now()) {
			return nil, handover.Errorf(handover.EINVALID, "Send time must be in the future (or empty to start by hand).")
		}
		cp.SendAt = &t
	}
	return cp, nil
}

// splitTags reads the form's comma-separated tags (either comma).
func splitTags(v string) []string {
	var tags []string
	for _, t := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' }) {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}
