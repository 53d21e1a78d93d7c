package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerCampaignRoutes(g *echo.Group) {
	g.GET("/campaigns", s.handleCampaignList, s.auth.Can(staff.ReadCampaigns))
	g.POST("/campaigns", s.handleCampaignCreate, s.auth.Can(staff.WriteCampaigns))
	g.GET("/campaigns/:id", s.handleCampaignView, s.auth.Can(staff.ReadCampaigns))
	g.POST("/campaigns/:id/schedule", s.handleCampaignSchedule, s.auth.Can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/start", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Start(c.Request().Context(), id, actor)
	}), s.auth.Can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/pause", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Pause(c.Request().Context(), id, actor)
	}), s.auth.Can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/resume", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Resume(c.Request().Context(), id, actor)
	}), s.auth.Can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/cancel", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Cancel(c.Request().Context(), id, actor)
	}), s.auth.Can(staff.WriteCampaigns))
	g.GET("/campaigns/:id/progress", s.handleCampaignProgressAPI, s.auth.Can(staff.ReadCampaigns))
	g.GET("/campaigns/:id/deliveries", s.handleDeliveryList, s.auth.Can(staff.ReadCampaigns))
	g.POST("/campaigns/audience-preview", s.handleAudiencePreview, s.auth.Can(staff.ReadCampaigns))
	g.POST("/campaigns/:id/test-send", s.handleCampaignTestSend, s.auth.Can(staff.WriteCampaigns))
}

type consentFilterJSON struct {
	Purpose  string `json:"purpose"`
	Decision string `json:"decision"`
}

type audienceJSON struct {
	Tags        []string            `json:"tags,omitempty"`
	Region      string              `json:"region,omitempty"`
	ImportID    string              `json:"import_id,omitempty"`
	Consent     []consentFilterJSON `json:"consent,omitempty"`
	Reachable   []string            `json:"reachable,omitempty"`
	CustomerIDs []string            `json:"customer_ids,omitempty"`
}

func (a audienceJSON) audience() campaigns.Audience {
	out := campaigns.Audience{Tags: a.Tags, Region: a.Region, ImportID: a.ImportID, CustomerIDs: a.CustomerIDs}
	for _, f := range a.Consent {
		out.Consent = append(out.Consent, campaigns.ConsentFilter{Purpose: f.Purpose, Decision: f.Decision})
	}
	for _, ch := range a.Reachable {
		out.Reachable = append(out.Reachable, channels.Name(ch))
	}
	return out
}

func toAudienceJSON(a campaigns.Audience) audienceJSON {
	out := audienceJSON{Tags: a.Tags, Region: a.Region, ImportID: a.ImportID}
	for _, f := range a.Consent {
		out.Consent = append(out.Consent, consentFilterJSON{Purpose: f.Purpose, Decision: f.Decision})
	}
	for _, ch := range a.Reachable {
		out.Reachable = append(out.Reachable, string(ch))
	}
	return out
}

type quietJSON struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// campaignInput is the body of a create.
type campaignInput struct {
	Name       string            `json:"name"`
	TransferID string            `json:"transfer_id"`
	Kind       string            `json:"kind"`
	Channels   []string          `json:"channels"`
	Templates  map[string]string `json:"templates"`
	Audience   audienceJSON      `json:"audience"`
	SendAt     *time.Time        `json:"send_at"`
	Purpose    string            `json:"purpose"`
	TimeZone   string            `json:"time_zone"`
	QuietHours *quietJSON        `json:"quiet_hours"`
	Rates      map[string]int    `json:"rates"`
}

// campaign builds the domain campaign from the input.
func (req *campaignInput) campaign() (*campaigns.Campaign, error) {
	cp := &campaigns.Campaign{Name: req.Name, TransferID: req.TransferID, Kind: templates.Kind(req.Kind),
		Templates: map[channels.Name]string{}, Audience: req.Audience.audience(), SendAt: req.SendAt,
		Purpose: req.Purpose, TimeZone: req.TimeZone, Rates: map[channels.Name]int{}}
	for _, ch := range req.Channels {
		cp.Channels = append(cp.Channels, channels.Name(ch))
	}
	for ch, id := range req.Templates {
		cp.Templates[channels.Name(ch)] = id
	}
	for ch, r := range req.Rates {
		cp.Rates[channels.Name(ch)] = r
	}
	if req.QuietHours != nil {
		q, err := campaigns.ParseQuietHours(req.QuietHours.Start, req.QuietHours.End)
		if err != nil {
			return nil, err
		}
		cp.Quiet = q
	}
	return cp, nil
}

type campaignJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	TransferID string            `json:"transfer_id"`
	Kind       string            `json:"kind"`
	Status     string            `json:"status"`
	Channels   []string          `json:"channels"`
	Templates  map[string]string `json:"templates"`
	Audience   audienceJSON      `json:"audience"`
	// AudienceList says the audience is an explicit customer list.
	AudienceList bool           `json:"audience_list,omitempty"`
	Purpose      string         `json:"purpose,omitempty"`
	TimeZone     string         `json:"time_zone"`
	QuietHours   *quietJSON     `json:"quiet_hours,omitempty"`
	Rates        map[string]int `json:"rates,omitempty"`
	SendAt       *time.Time     `json:"send_at,omitempty"`
	Planned      int            `json:"planned"`
	// Planning is true while recipients are still being planned.
	Planning bool                            `json:"planning,omitempty"`
	Counts   map[channels.DeliveryStatus]int `json:"counts,omitempty"`
	// SkippedByReason counts skipped and suppressed deliveries per reason;
	// ByChannel counts deliveries per channel and status.
	SkippedByReason map[campaigns.SkipReason]int               `json:"skipped_by_reason,omitempty"`
	ByChannel       map[string]map[channels.DeliveryStatus]int `json:"by_channel,omitempty"`
	// Funnel counts the campaign's links by what customers did on the
	// portal, in all and per channel (single campaign only).
	Funnel          *campaigns.Funnel           `json:"funnel,omitempty"`
	FunnelByChannel map[string]campaigns.Funnel `json:"funnel_by_channel,omitempty"`
	CreatedBy       string                      `json:"created_by"`
	CreatedAt       time.Time                   `json:"created_at"`
	UpdatedAt       time.Time                   `json:"updated_at"`
	StartedAt       *time.Time                  `json:"started_at,omitempty"`
	FinishedAt      *time.Time                  `json:"finished_at,omitempty"`
}

func toCampaignJSON(c *campaigns.Campaign) campaignJSON {
	out := campaignJSON{ID: c.ID, Name: c.Name, TransferID: c.TransferID, Kind: string(c.Kind), Status: c.Status.String(),
		Templates: map[string]string{}, Audience: toAudienceJSON(c.Audience), AudienceList: c.Audience.CustomerIDs != nil,
		Purpose: c.Purpose, TimeZone: c.TimeZone, SendAt: c.SendAt, Planned: c.Planned,
		Planning: c.PlannedAt == nil && (c.Status == campaigns.StatusRunning || c.Status == campaigns.StatusPaused), CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		StartedAt: c.StartedAt, FinishedAt: c.FinishedAt}
	for _, ch := range c.Channels {
		out.Channels = append(out.Channels, string(ch))
	}
	for ch, id := range c.Templates {
		out.Templates[string(ch)] = id
	}
	if c.Quiet != nil {
		out.QuietHours = &quietJSON{Start: campaigns.Clock(c.Quiet.Start), End: campaigns.Clock(c.Quiet.End)}
	}
	if len(c.Rates) > 0 {
		out.Rates = map[string]int{}
		for ch, r := range c.Rates {
			out.Rates[string(ch)] = r
		}
	}
	return out
}

// handleCampaignList lists campaigns, newest first, optionally by status.
func (s *API) handleCampaignList(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	list, next, err := s.campaigns.FindCampaignPage(c.Request().Context(), c.QueryParam("status"), cursor, limit)
	if err != nil {
		return err
	}
	out := make([]campaignJSON, len(list))
	for i, cp := range list {
		out[i] = toCampaignJSON(cp)
	}
	return listJSON(c, out, next)
}

// handleCampaignCreate stores a draft campaign.
func (s *API) handleCampaignCreate(c echo.Context) error {
	var req campaignInput
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cp, err := req.campaign()
	if err != nil {
		return err
	}
	if err := s.campaigns.Create(c.Request().Context(), cp, kit.Member(c).Actor()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/campaigns/"+cp.ID)
	return c.JSON(http.StatusCreated, toCampaignJSON(cp))
}

// handleCampaignView shows a campaign with its deliveries counted by status.
func (s *API) handleCampaignView(c echo.Context) error {
	ctx := c.Request().Context()
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	out := toCampaignJSON(cp)
	st, err := s.campaigns.Stats(ctx, cp.ID)
	if err != nil {
		return err
	}
	out.Counts, out.SkippedByReason, out.ByChannel = st.ByStatus, st.SkippedByReason, st.ByChannel
	out.Funnel, out.FunnelByChannel = &st.Funnel, st.FunnelByChannel
	return c.JSON(http.StatusOK, out)
}

// handleCampaignProgressAPI answers with the campaign's status, its
// deliveries by status from counters (campaigns.Service.Progress) and its
// rates and ETA (campaigns.Service.Pace): cheap to poll however large the
// campaign, unlike GET /campaigns/{id}.
func (s *API) handleCampaignProgressAPI(c echo.Context) error {
	cp, counts, pace, err := kit.CampaignProgress(c, s.campaigns)
	if err != nil {
		return err
	}
	health, err := s.campaigns.Health(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": cp.ID, "status": cp.Status, "planned": cp.Planned, "planning": cp.PlannedAt == nil,
		"counts": counts, "rates": pace.Rates, "eta_seconds": pace.ETASeconds(), "health": health})
}

// handleCampaignSchedule sets a draft or scheduled campaign to start at
// send_at (RFC 3339, in the future).
func (s *API) handleCampaignSchedule(c echo.Context) error {
	var req struct {
		SendAt *time.Time `json:"send_at"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.SendAt == nil {
		return handover.Errorf(handover.EINVALID, "send_at is required (RFC 3339)")
	}
	if err := s.campaigns.Schedule(c.Request().Context(), c.Param("id"), *req.SendAt, kit.Member(c).Actor()); err != nil {
		return err
	}
	return s.handleCampaignView(c)
}

// handleCampaignAction runs a status change and answers with the campaign.
func (s *API) handleCampaignAction(fn func(c echo.Context, id, actor string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := fn(c, c.Param("id"), kit.Member(c).Actor()); err != nil {
			return err
		}
		return s.handleCampaignView(c)
	}
}

type deliveryJSON struct {
	ID              string     `json:"id"`
	CustomerID      string     `json:"customer_id"`
	Channel         string     `json:"channel"`
	TemplateID      string     `json:"template_id"`
	TemplateVersion int        `json:"template_version"`
	Status          string     `json:"status"`
	SkipReason      string     `json:"skip_reason,omitempty"`
	Attempts        int        `json:"attempts"`
	ProviderID      string     `json:"provider_id,omitempty"`
	Error           string     `json:"error,omitempty"`
	SentAt          *time.Time `json:"sent_at,omitempty"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// handleDeliveryList pages through a campaign's deliveries.
func (s *API) handleDeliveryList(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.campaigns.FindCampaignByID(ctx, c.Param("id")); err != nil {
		return err
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	list, next, err := s.campaigns.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.Param("id"),
		Status: channels.DeliveryStatus(c.QueryParam("status")), Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = deliveryJSON{ID: d.ID, CustomerID: d.CustomerID, Channel: d.Channel, TemplateID: d.TemplateID,
			TemplateVersion: d.TemplateVersion, Status: d.Status.String(), SkipReason: d.SkipReason.String(), Attempts: d.Attempts,
			ProviderID: d.ProviderID, Error: d.Error, SentAt: d.SentAt, UpdatedAt: d.UpdatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "next_cursor": next})
}

// handleAudiencePreview counts what starting a campaign like the body
// (transfer, kind, purpose, channels, audience) would plan now.
func (s *API) handleAudiencePreview(c echo.Context) error {
	var req campaignInput
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cp, err := req.campaign()
	if err != nil {
		return err
	}
	p, err := s.campaigns.PreviewAudience(c.Request().Context(), cp)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"count": p.Total, "queued": p.Queued, "by_channel": p.ByChannel,
		"skipped_by_reason": p.SkippedByReason})
}

// handleCampaignTestSend sends the campaign's message to the calling staff
// member's own email (or the devbox); it is not counted in the stats.
func (s *API) handleCampaignTestSend(c echo.Context) error {
	m := kit.Member(c)
	res, err := s.campaigns.TestSend(c.Request().Context(), c.Param("id"), channels.Address{Email: m.Email}, m.Name, m.Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"channel": string(res.Channel), "template_id": res.Template,
		"template_version": res.Version, "provider_id": res.ProviderID})
}
