package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerTicketCallRoutes(g *echo.Group) {
	g.POST("/tickets/calls", s.handleTicketCall, s.auth.Can(staff.WriteTickets))
}

// handleTicketCall logs what a customer said on the phone as a ticket
// message, as a written reply would be.
func (s *API) handleTicketCall(c echo.Context) error {
	var req struct {
		CustomerID string `json:"customer_id"`
		Text       string `json:"text"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	id, err := s.tickets.LogCall(c.Request().Context(), req.CustomerID, kit.Member(c).ID, req.Text)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{"ticket_id": id})
}
