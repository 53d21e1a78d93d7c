package dashboard

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *Dashboard) registerCampaignPages() {
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
	s.registerMarketerPages()
}

// campaignRow is a campaign with its progress, as lists and pages show it.
type campaignRow struct {
	*campaigns.Campaign
	progress
}

// progress is how far a campaign's deliveries have come and, on its own
// page, the rates it is held to and when it should be done.
type progress struct {
	State   string                          `json:"status"`
	Total   int                             `json:"total"`
	Done    int                             `json:"done"`
	Percent int                             `json:"percent"`
	Counts  map[channels.DeliveryStatus]int `json:"counts"`
	Live    bool                            `json:"live"`
	// InForce and ETA are campaigns.Pace's: messages per second per channel
	// (0: no limit) and the seconds the queued rows should still take.
	InForce map[channels.Name]int `json:"rates,omitempty"`
	ETA     *int64                `json:"eta_seconds"`
}

// withPace adds the campaign's rates and ETA.
func (p progress) withPace(pace *campaigns.Pace) progress {
	p.InForce, p.ETA = pace.Rates, pace.ETASeconds()
	return p
}

// ETAText is the ETA as h:mm:ss.
func (p progress) ETAText() string {
	if p.ETA == nil {
		return ""
	}
	s := *p.ETA
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// pending delivery statuses: not yet handed to a provider.
var pendingStatuses = []channels.DeliveryStatus{channels.StatusPlanned, channels.StatusQueued}

func newProgress(status campaigns.Status, counts map[channels.DeliveryStatus]int) progress {
	p := progress{State: status.String(), Counts: counts}
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
func (s *Dashboard) handleCampaignsPage(c echo.Context) error {
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

// liveRowsLimit is the largest campaign whose page's poll counts its rows
// (every number on the page, campaignNumbersOf); a larger one's poll reads
// the counters (Service.Progress) and moves only the bar.
const liveRowsLimit = 200000

// handleCampaignProgress answers the page's polling script with the
// campaign's progress as JSON.
func (s *Dashboard) handleCampaignProgress(c echo.Context) error {
	cp, err := s.campaigns.FindCampaignByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if cp.Planned > liveRowsLimit {
		// Too many rows to count every 2 s: the counters move the bar.
		_, counts, pace, err := kit.CampaignProgress(c, s.campaigns)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, newProgress(cp.Status, counts).withPace(pace))
	}
	v, err := s.campaignNumbersOf(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, v)
}

func (s *Dashboard) handleCampaignActionPage(name string, fn func(c echo.Context, id, actor string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := fn(c, c.Param("id"), member(c).Actor()); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/campaigns/"+c.Param("id")+"?done="+name)
	}
}

// campaignChannels are the channels this server can send through, in the
// order the form offers them.
func (s *Dashboard) campaignChannels() []channels.Name {
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
