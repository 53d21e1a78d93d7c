package web

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
)

func (s *Server) registerCampaignRoutes(g *echo.Group) {
	g.GET("/campaigns", s.handleCampaignList, s.can(staff.ReadCampaigns))
	g.POST("/campaigns", s.handleCampaignCreate, s.can(staff.WriteCampaigns))
	g.GET("/campaigns/:id", s.handleCampaignView, s.can(staff.ReadCampaigns))
	g.POST("/campaigns/:id/schedule", s.handleCampaignSchedule, s.can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/start", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Start(c.Request().Context(), id, actor)
	}), s.can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/pause", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Pause(c.Request().Context(), id, actor)
	}), s.can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/resume", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Resume(c.Request().Context(), id, actor)
	}), s.can(staff.WriteCampaigns))
	g.POST("/campaigns/:id/cancel", s.handleCampaignAction(func(c echo.Context, id, actor string) error {
		return s.campaigns.Cancel(c.Request().Context(), id, actor)
	}), s.can(staff.WriteCampaigns))
	g.GET("/campaigns/:id/deliveries", s.handleDeliveryList, s.can(staff.ReadCampaigns))
}

type audienceJSON struct {
	Tag    string `json:"tag,omitempty"`
	Region string `json:"region,omitempty"`
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
	SendAt     *time.Time        `json:"send_at,omitempty"`
	Planned    int               `json:"planned"`
	Counts     map[string]int    `json:"counts,omitempty"`
	// SkippedByReason counts skipped and suppressed deliveries per reason;
	// ByChannel counts deliveries per channel and status.
	SkippedByReason map[string]int            `json:"skipped_by_reason,omitempty"`
	ByChannel       map[string]map[string]int `json:"by_channel,omitempty"`
	CreatedBy       string                    `json:"created_by"`
	CreatedAt       time.Time                 `json:"created_at"`
	UpdatedAt       time.Time                 `json:"updated_at"`
	StartedAt       *time.Time                `json:"started_at,omitempty"`
	FinishedAt      *time.Time                `json:"finished_at,omitempty"`
}

func toCampaignJSON(c *campaigns.Campaign) campaignJSON {
	out := campaignJSON{ID: c.ID, Name: c.Name, TransferID: c.TransferID, Kind: string(c.Kind), Status: c.Status,
		Templates: map[string]string{}, Audience: audienceJSON{Tag: c.Audience.Tag, Region: c.Audience.Region},
		SendAt: c.SendAt, Planned: c.Planned, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
		StartedAt: c.StartedAt, FinishedAt: c.FinishedAt}
	for _, ch := range c.Channels {
		out.Channels = append(out.Channels, string(ch))
	}
	for ch, id := range c.Templates {
		out.Templates[string(ch)] = id
	}
	return out
}

// handleCampaignList lists campaigns, newest first, optionally by status.
func (s *Server) handleCampaignList(c echo.Context) error {
	list, err := s.campaigns.FindCampaigns(c.Request().Context(), c.QueryParam("status"))
	if err != nil {
		return err
	}
	out := make([]campaignJSON, len(list))
	for i, cp := range list {
		out[i] = toCampaignJSON(cp)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// handleCampaignCreate stores a draft campaign.
func (s *Server) handleCampaignCreate(c echo.Context) error {
	var req campaignInput
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cp := &campaigns.Campaign{Name: req.Name, TransferID: req.TransferID, Kind: templates.Kind(req.Kind),
		Templates: map[channels.Name]string{}, Audience: campaigns.Audience{Tag: req.Audience.Tag, Region: req.Audience.Region},
		SendAt: req.SendAt}
	for _, ch := range req.Channels {
		cp.Channels = append(cp.Channels, channels.Name(ch))
	}
	for ch, id := range req.Templates {
		cp.Templates[channels.Name(ch)] = id
	}
	if err := s.campaigns.Create(c.Request().Context(), cp, member(c).Actor()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/campaigns/"+cp.ID)
	return c.JSON(http.StatusCreated, toCampaignJSON(cp))
}

// handleCampaignView shows a campaign with its deliveries counted by status.
func (s *Server) handleCampaignView(c echo.Context) error {
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
	return c.JSON(http.StatusOK, out)
}

// handleCampaignSchedule sets a draft or scheduled campaign to start at
// send_at (RFC 3339, in the future).
func (s *Server) handleCampaignSchedule(c echo.Context) error {
	var req struct {
		SendAt *time.Time `json:"send_at"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.SendAt == nil {
		return handover.Errorf(handover.EINVALID, "send_at is required (RFC 3339)")
	}
	if err := s.campaigns.Schedule(c.Request().Context(), c.Param("id"), *req.SendAt, member(c).Actor()); err != nil {
		return err
	}
	return s.handleCampaignView(c)
}

// handleCampaignAction runs a status change and answers with the campaign.
func (s *Server) handleCampaignAction(fn func(c echo.Context, id, actor string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := fn(c, c.Param("id"), member(c).Actor()); err != nil {
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
func (s *Server) handleDeliveryList(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.campaigns.FindCampaignByID(ctx, c.Param("id")); err != nil {
		return err
	}
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	list, next, err := s.campaigns.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: c.Param("id"),
		Status: c.QueryParam("status"), Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	out := make([]deliveryJSON, len(list))
	for i, d := range list {
		out[i] = deliveryJSON{ID: d.ID, CustomerID: d.CustomerID, Channel: d.Channel, TemplateID: d.TemplateID,
			TemplateVersion: d.TemplateVersion, Status: d.Status, SkipReason: d.SkipReason, Attempts: d.Attempts,
			ProviderID: d.ProviderID, Error: d.Error, SentAt: d.SentAt, UpdatedAt: d.UpdatedAt}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "next_cursor": next})
}
