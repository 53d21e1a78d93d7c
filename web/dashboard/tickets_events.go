package dashboard

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/feedback"
)

// ticketEventJSON is what the dashboard's script receives for a ticket
// event: ids, and for a "viewing" event the viewer's name (staff see each
// other's names anyway).
type ticketEventJSON struct {
	Type     string `json:"type"`
	TicketID string `json:"ticket_id"`
	Actor    string `json:"actor,omitempty"`
	Name     string `json:"name,omitempty"`
}

// sseKeepAlive is how often an idle stream sends a comment, so proxies
// keep it open.
const sseKeepAlive = 15 * time.Second

// handleTicketEvents streams ticket events as server-sent events until the
// client goes or the request's time runs out; the browser's EventSource
// then reconnects by itself.
func (s *Dashboard) handleTicketEvents(c echo.Context) error {
	ctx := c.Request().Context()
	events, err := s.tickets.Subscribe(ctx)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream; charset=utf-8")
	h.Set(echo.HeaderCacheControl, "no-store")
	h.Set("X-Accel-Buffering", "no")
	c.Response().WriteHeader(http.StatusOK)
	w := c.Response()
	fmt.Fprint(w, "retry: 1000\n\n")
	w.Flush()
	names := map[string]string{}
	tick := time.NewTicker(sseKeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			// Events that came together (a bulk action) go out together,
			// followed by the counts once.
			changed := false
			for more := true; more; {
				out := ticketEventJSON{Type: ev.Type, TicketID: ev.TicketID, Actor: ev.Actor}
				if ev.Type == "viewing" {
					out.Name = s.viewerName(c, names, ev.Actor)
				} else {
					changed = true
				}
				b, _ := json.Marshal(out)
				fmt.Fprintf(w, "event: ticket\ndata: %s\n\n", b)
				select {
				case ev, more = <-events:
				default:
					more = false
				}
			}
			if changed {
				s.sendCounts(c)
			}
		}
		w.Flush()
	}
}

// sendCounts sends the queue navigation's counts as a "counts" event: a
// JSON object keyed like the page's count ids (open, mine, unassigned,
// breached, cat-CATEGORY). A failed count is logged and skipped: the next
// change sends them again.
func (s *Dashboard) sendCounts(c echo.Context) {
	counts, err := s.tickets.Counts(c.Request().Context(), member(c).ID)
	if err != nil {
		s.log.Warn("live ticket counts", "err", err)
		return
	}
	out := map[string]string{}
	for k, v := range countValues(counts) {
		out[k] = v[0]
	}
	b, _ := json.Marshal(out)
	fmt.Fprintf(c.Response(), "event: counts\ndata: %s\n\n", b)
}

// viewerName is the name of the staff member behind actor "staff:ID",
// remembered for the stream's life.
func (s *Dashboard) viewerName(c echo.Context, names map[string]string, actor string) string {
	if n, ok := names[actor]; ok {
		return n
	}
	all, err := s.staffNames(c.Request().Context())
	if err != nil {
		return ""
	}
	for id, n := range all {
		names["staff:"+id] = n
	}
	return names[actor]
}

// handleTicketViewing tells other dashboards that this member has the
// ticket open, for their collision notice.
func (s *Dashboard) handleTicketViewing(c echo.Context) error {
	if _, err := s.tickets.FindTicketByID(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	s.tickets.Publish(c.Request().Context(), feedback.TicketEvent{Type: "viewing", TicketID: c.Param("id"), Actor: member(c).Actor()})
	return c.NoContent(http.StatusNoContent)
}
