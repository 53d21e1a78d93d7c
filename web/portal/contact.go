package portal

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/channels"
)

// maxContactText bounds a portal message, as the form says.
const maxContactText = 2000

// handlePortalContact shows the contact form, or the thanks page after a
// message was sent.
func (s *Portal) handlePortalContact(c echo.Context) error {
	v := s.newPortalView(c)
	if c.QueryParam("sent") == "1" {
		v.Result = resultView{Title: v.T["contact_sent"], Detail: v.T["contact_sent_detail"], Action: v.T["back_notice"], Href: v.Base}
		return s.renderPortal(c, http.StatusOK, "result", v)
	}
	return s.renderPortal(c, http.StatusOK, "contact", v)
}

// handlePortalContactSubmit hands the customer's message to the feedback
// queue as a portal event. Its dedup key is the link and the text, so a
// double submit or a reload opens no second ticket message.
func (s *Portal) handlePortalContactSubmit(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	text := strings.TrimSpace(c.FormValue("text"))
	if text == "" || utf8.RuneCountInString(text) > maxContactText {
		v := s.newPortalView(c)
		v.Problem = v.T["contact_empty"]
		return s.renderPortal(c, http.StatusBadRequest, "contact", v)
	}
	if s.recordEvent == nil {
		return echo.NewHTTPError(http.StatusServiceUnavailable, "Messages cannot be received right now.")
	}
	sum := sha256.Sum256([]byte(l.ID + "\x00" + text))
	ev := channels.InboundEvent{Channel: channels.Portal, Kind: channels.EventMessage, DedupKey: "contact-" + hex.EncodeToString(sum[:16]),
		CustomerID: l.CustomerID, DeliveryID: l.DeliveryID, Text: text, OccurredAt: s.db.Now()}
	if _, err := s.recordEvent(ctx, []channels.InboundEvent{ev}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, s.newPortalView(c).Base+"/contact?sent=1")
}
