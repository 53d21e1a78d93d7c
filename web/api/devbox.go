package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerDevboxRoutes(g *echo.Group) {
	g.GET("/devbox/messages", s.handleDevboxList, s.auth.Can(staff.UseOutbox))
	g.POST("/devbox/messages/:delivery_id/reply", s.handleDevboxReply, s.auth.Can(staff.UseOutbox))
}

type devboxMessageJSON struct {
	ID         string    `json:"id"`
	DeliveryID string    `json:"delivery_id"`
	CustomerID string    `json:"customer_id"`
	Kind       string    `json:"kind"`
	To         string    `json:"to"`
	Subject    string    `json:"subject,omitempty"`
	Text       string    `json:"text"`
	Link       string    `json:"link,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// handleDevboxList shows what the devbox "sent", newest first, so a demo
// can follow a message's link. Audited: the text is personal data.
func (s *API) handleDevboxList(c echo.Context) error {
	if s.devbox == nil {
		return handover.Errorf(handover.ENOTFOUND, "The devbox is off: this server sends through real providers.")
	}
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	msgs, next, err := s.devbox.FindPage(c.Request().Context(), c.QueryParam("delivery_id"), cursor, limit)
	if err != nil {
		return err
	}
	out := make([]devboxMessageJSON, len(msgs))
	for i, m := range msgs {
		to := m.To.Phone + m.To.Email + m.To.OpenID
		out[i] = devboxMessageJSON{ID: m.ID, DeliveryID: m.DeliveryID, CustomerID: m.CustomerID, Kind: string(m.Kind), To: to,
			Subject: m.Subject, Text: m.Text, Link: m.Link, CreatedAt: m.CreatedAt}
	}
	if err := s.auth.RecordAccess(c, "outbox.list", "devbox_message", "", fmt.Sprintf("count=%d", len(out))); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return listJSON(c, out, next)
}

// handleDevboxReply records a reply as if the customer of a delivery had
// answered, so the inbound path can be walked without a provider.
func (s *API) handleDevboxReply(c echo.Context) error {
	if s.devbox == nil {
		return handover.Errorf(handover.ENOTFOUND, "The devbox is off: this server sends through real providers.")
	}
	var req struct {
		Text string `json:"text"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Text == "" || len(req.Text) > 4000 {
		return handover.Errorf(handover.EINVALID, "text must be 1 to 4000 bytes")
	}
	if err := s.devbox.SimulateReply(c.Request().Context(), c.Param("delivery_id"), req.Text); err != nil {
		return err
	}
	return c.NoContent(http.StatusAccepted)
}
