package dashboard

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

func (s *Dashboard) registerDevboxPages() {
	s.pageRoute(http.MethodGet, "/devbox", s.handleDevboxPage, staff.UseOutbox)
	s.pageRoute(http.MethodPost, "/devbox/:delivery_id/reply", s.handleDevboxReplyPage, staff.UseOutbox)
}

// handleDevboxPage shows what the devbox recorded instead of sending,
// newest first, with each personal link clickable. Audited: the texts
// are personal data.
func (s *Dashboard) handleDevboxPage(c echo.Context) error {
	if s.devbox == nil {
		return handover.Errorf(handover.ENOTFOUND, "The devbox is off: this server sends through real providers.")
	}
	msgs, err := s.devbox.Find(c.Request().Context(), "", 200)
	if err != nil {
		return err
	}
	if err := s.recordAccess(c, "outbox.list", "devbox_message", "", fmt.Sprintf("count=%d", len(msgs))); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "devbox", &page{Title: "nav.devbox", Nav: "devbox", Data: msgs})
}

// handleDevboxReplyPage records a reply as if the message's customer had
// answered, so a demo can walk the inbound path from one browser.
func (s *Dashboard) handleDevboxReplyPage(c echo.Context) error {
	if s.devbox == nil {
		return handover.Errorf(handover.ENOTFOUND, "The devbox is off: this server sends through real providers.")
	}
	text := c.FormValue("text")
	if text == "" || len(text) > 4000 {
		return handover.Errorf(handover.EINVALID, "The reply must be 1 to 4000 bytes.")
	}
	if err := s.devbox.SimulateReply(c.Request().Context(), c.Param("delivery_id"), text); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/devbox?done=replied")
}
