package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerTicketRoutes(g *echo.Group) {
	g.GET("/tickets", s.handleTicketList, s.auth.Can(staff.ReadTickets))
	g.GET("/tickets/counts", s.handleTicketCounts, s.auth.Can(staff.ReadTickets))
	g.GET("/tickets/:id", s.handleTicketView, s.auth.Can(staff.ReadTickets))
	g.PATCH("/tickets/:id", s.handleTicketUpdate, s.auth.Can(staff.WriteTickets))
	g.POST("/tickets/:id/replies", s.handleTicketReply, s.auth.Can(staff.WriteTickets))
	g.POST("/tickets/:id/notes", s.handleTicketNote, s.auth.Can(staff.WriteTickets))
	g.POST("/tickets/:id/merge", s.handleTicketMerge, s.auth.Can(staff.WriteTickets))
	g.POST("/tickets/:id/link", s.handleTicketLink, s.auth.Can(staff.WriteTickets))
	g.GET("/tickets/:id/bind-proposal", s.handleTicketBindProposal, s.auth.Can(staff.WriteTickets))
	s.registerTicketConfigRoutes(g)
}

type ticketJSON struct {
	ID               string        `json:"id"`
	CustomerID       string        `json:"customer_id"`
	Unmatched        bool          `json:"unmatched"`
	Status           string        `json:"status"`
	Priority         string        `json:"priority"`
	Category         string        `json:"category"`
	AssigneeID       string        `json:"assignee_id"`
	Team             string        `json:"team"`
	Tags             []string      `json:"tags"`
	Channel          string        `json:"channel"`
	MergedInto       string        `json:"merged_into,omitempty"`
	FirstResponseDue time.Time     `json:"first_response_due"`
	ResolutionDue    time.Time     `json:"resolution_due"`
	FirstResponseAt  *time.Time    `json:"first_response_at,omitempty"`
	SLADue           *time.Time    `json:"sla_due,omitempty"`
	Breached         bool          `json:"breached"`
	CreatedAt        time.Time     `json:"created_at"`
	UpdatedAt        time.Time     `json:"updated_at"`
	ResolvedAt       *time.Time    `json:"resolved_at,omitempty"`
	ClosedAt         *time.Time    `json:"closed_at,omitempty"`
	Messages         []messageJSON `json:"messages,omitempty"`
	// Preview is the first line of the latest customer message (list with
	// preview=true only).
	Preview string `json:"preview,omitempty"`
}

type messageJSON struct {
	ID                string    `json:"id"`
	Direction         string    `json:"direction"`
	Channel           string    `json:"channel"`
	Text              string    `json:"text"`
	ProviderMessageID string    `json:"provider_message_id,omitempty"`
	DeliveryStatus    string    `json:"delivery_status,omitempty"`
	DeliveryError     string    `json:"delivery_error,omitempty"`
	ChannelReason     string    `json:"channel_reason,omitempty"`
	AuthorID          string    `json:"author_id,omitempty"`
	CreatedAt         time.Time `json:"created_at"`
}

func toTicketJSON(t *feedback.Ticket) ticketJSON {
	out := ticketJSON{ID: t.ID, CustomerID: t.CustomerID, Unmatched: t.Unmatched, Status: t.Status.String(), Priority: t.Priority,
		Category: t.Category, AssigneeID: t.AssigneeID, Team: t.Team, Tags: t.Tags, Channel: string(t.Channel), MergedInto: t.MergedInto,
		FirstResponseDue: t.FirstResponseDue, ResolutionDue: t.ResolutionDue, FirstResponseAt: t.FirstResponseAt, SLADue: t.SLADue,
		Breached: t.Breached, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt, ResolvedAt: t.ResolvedAt, ClosedAt: t.ClosedAt}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	for _, m := range t.Messages {
		out.Messages = append(out.Messages, toMessageJSON(&m))
	}
	return out
}

func toMessageJSON(m *feedback.Message) messageJSON {
	return messageJSON{ID: m.ID, Direction: m.Direction, Channel: string(m.Channel), Text: m.Text, ProviderMessageID: m.ProviderMessageID,
		DeliveryStatus: m.DeliveryStatus.String(), DeliveryError: m.DeliveryError, ChannelReason: m.ChannelReason, AuthorID: m.AuthorID, CreatedAt: m.CreatedAt}
}

// handleTicketList pages through the queue: no message text, so not audited.
func (s *API) handleTicketList(c echo.Context) error {
	q := c.QueryParams()
	f := feedback.Filter{Status: feedback.Status(q.Get("status")), Channel: q.Get("channel"), Category: q.Get("category"),
		CustomerID: q.Get("customer_id"), Sort: q.Get("sort"), Cursor: q.Get("cursor")}
	switch a := q.Get("assignee"); a {
	case "mine":
		f.AssigneeID = kit.Member(c).ID
	case "unassigned":
		f.Unassigned = true
	default:
		f.AssigneeID = a
	}
	if b := q.Get("breached"); b != "" {
		v, err := strconv.ParseBool(b)
		if err != nil {
			return handover.Errorf(handover.EINVALID, "breached must be true or false")
		}
		f.Breached = v
	}
	f.Limit, _ = strconv.Atoi(q.Get("limit"))
	ctx := c.Request().Context()
	list, next, err := s.tickets.FindTickets(ctx, f)
	if err != nil {
		return err
	}
	out := make([]ticketJSON, len(list))
	ids := make([]string, len(list))
	for i, t := range list {
		out[i], ids[i] = toTicketJSON(t), t.ID
	}
	if q.Get("preview") == "true" {
		previews, err := s.tickets.Previews(ctx, ids, kit.Member(c).Actor())
		if err != nil {
			return err
		}
		for i := range out {
			out[i].Preview = previews[out[i].ID]
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "next_cursor": next})
}

// handleTicketCounts counts the open tickets for the queue's navigation.
func (s *API) handleTicketCounts(c echo.Context) error {
	n, err := s.tickets.Counts(c.Request().Context(), kit.Member(c).ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"open": n.Open, "mine": n.Mine, "unassigned": n.Unassigned, "breached": n.Breached,
		"by_category": n.ByCategory, "by_channel": n.ByChannel})
}

// handleTicketView shows a ticket with its conversation (audited).
func (s *API) handleTicketView(c echo.Context) error {
	t, err := s.tickets.ViewTicket(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTicketJSON(t))
}

// handleTicketUpdate changes status, priority, category, assignee, team or tags.
func (s *API) handleTicketUpdate(c echo.Context) error {
	var req struct {
		Status     *string   `json:"status"`
		Priority   *string   `json:"priority"`
		Category   *string   `json:"category"`
		AssigneeID *string   `json:"assignee_id"`
		Team       *string   `json:"team"`
		Tags       *[]string `json:"tags"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	t, err := s.tickets.UpdateTicket(c.Request().Context(), c.Param("id"), feedback.Update{Status: (*feedback.Status)(req.Status), Priority: req.Priority,
		Category: req.Category, AssigneeID: req.AssigneeID, Team: req.Team, Tags: req.Tags}, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTicketJSON(t))
}

// handleTicketReply sends a reply to the customer: text, or a canned reply.
func (s *API) handleTicketReply(c echo.Context) error {
	var req struct {
		Text     string `json:"text"`
		CannedID string `json:"canned_id"`
		Channel  string `json:"channel"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.CannedID != "" {
		if req.Text != "" {
			return handover.Errorf(handover.EINVALID, "Send text or canned_id, not both.")
		}
		cr, err := s.tickets.FindCannedReplyByID(ctx, req.CannedID)
		if err != nil {
			return err
		}
		req.Text = cr.Body
	}
	m, err := s.tickets.Reply(ctx, c.Param("id"), kit.Member(c).ID, req.Text, channels.Name(req.Channel))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toMessageJSON(m))
}

// handleTicketNote adds an internal note.
func (s *API) handleTicketNote(c echo.Context) error {
	var req struct {
		Text string `json:"text"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	m, err := s.tickets.AddNote(c.Request().Context(), c.Param("id"), kit.Member(c).ID, req.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toMessageJSON(m))
}

// handleTicketMerge merges this ticket into another and answers with the target.
func (s *API) handleTicketMerge(c echo.Context) error {
	var req struct {
		Into string `json:"into"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Into == "" {
		return handover.Errorf(handover.EINVALID, "into is required: the ticket to merge this one into")
	}
	t, err := s.tickets.Merge(c.Request().Context(), c.Param("id"), req.Into, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTicketJSON(t))
}

// handleTicketLink ties an unmatched ticket to a customer and, with
// bind, binds the sender's address to them.
func (s *API) handleTicketLink(c echo.Context) error {
	var req struct {
		CustomerID string `json:"customer_id"`
		Bind       bool   `json:"bind"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.CustomerID == "" {
		return handover.Errorf(handover.EINVALID, "customer_id is required")
	}
	t, err := s.tickets.LinkCustomer(c.Request().Context(), c.Param("id"), req.CustomerID, kit.Member(c).Actor(), req.Bind)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTicketJSON(t))
}

// handleTicketBindProposal says what linking the unmatched ticket to the
// customer (?customer_id=) would bind, masked.
func (s *API) handleTicketBindProposal(c echo.Context) error {
	p, err := s.tickets.ProposeBinding(c.Request().Context(), c.Param("id"), c.QueryParam("customer_id"))
	if err != nil {
		return err
	}
	if p == nil {
		return c.JSON(http.StatusOK, map[string]any{"address": nil})
	}
	return c.JSON(http.StatusOK, map[string]any{"address": map[string]any{"kind": p.Kind, "masked": p.Masked, "bound": p.Bound, "problem": p.Problem}})
}
