package dashboard

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/staff"
)

func (s *Dashboard) registerTicketPages() {
	s.pageRoute(http.MethodGet, "/tickets", s.handleTicketsPage, "")
	s.pageRoute(http.MethodGet, "/tickets/events", s.handleTicketEvents, staff.ReadTickets)
	s.pageRoute(http.MethodPost, "/tickets/bulk", s.handleTicketBulk, staff.WriteTickets)
	s.pageRoute(http.MethodPost, "/tickets/filters", s.handleTicketFilterSave, staff.ReadTickets)
	s.pageRoute(http.MethodPost, "/tickets/filters/:id/delete", s.handleTicketFilterDelete, staff.ReadTickets)
	s.pageRoute(http.MethodGet, "/tickets/:id", s.handleTicketPage, staff.ReadTickets)
	s.pageRoute(http.MethodGet, "/tickets/:id/row", s.handleTicketRow, staff.ReadTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/viewing", s.handleTicketViewing, staff.ReadTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/reveal", s.handleTicketRevealPage, staff.RevealCustomers)
	s.pageRoute(http.MethodPost, "/tickets/:id/reply", s.handleTicketReplyPage, staff.WriteTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/note", s.handleTicketNotePage, staff.WriteTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/update", s.handleTicketUpdatePage, staff.WriteTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/merge", s.handleTicketMergePage, staff.WriteTickets)
	s.pageRoute(http.MethodPost, "/tickets/:id/link", s.handleTicketLinkPage, staff.WriteTickets)
}

// ticketRow is one line of the queue, every text ready to show: the
// customer masked, the preview's first line, the SLA countdown.
type ticketRow struct {
	ID, Customer, Channel, Preview, Status, StatusLabel string
	Priority, PriorityLabel, Category, Assignee         string
	AssigneeInitial, SLA, Urgency, Due                  string
	ChannelLabel, Select                                string
	Unmatched                                           bool
	Pickable                                            bool // a box to tick for the bulk form
}

// queueView is the queue page: the navigation counts, the filter in force
// and one page of rows.
type queueView struct {
	Counts  *feedback.Counts
	Query   url.Values
	View    string // mine | unassigned | breached | "" (all open)
	Rows    []ticketRow
	Next    string // the next page's URL, "" on the last page
	Allowed bool   // the member's role may read tickets
	// Options of the filter form.
	Statuses   []feedback.Status
	Channels   []channels.Name
	Categories []string
	// Search is the search box resolved; Saved the member's saved
	// filters; Staff whom the bulk form may assign to.
	Search   ticketSearch
	Saved    []savedFilterLink
	Staff    []*staff.Member
	BulkDone string // how many tickets the last bulk action changed
	Failed   string // and how many it could not
}

// Keep is the part of the query a saved filter keeps (savedQuery).
func (v queueView) Keep() url.Values {
	keep, _ := url.ParseQuery(savedQuery(v.Query))
	return keep
}

// CategoryCounts are each category's open tickets (0 when none), in the order
// the navigation lists them.
func (v queueView) CategoryCounts() []categoryCount {
	out := make([]categoryCount, 0, len(ticketCategories))
	for _, k := range ticketCategories {
		out = append(out, categoryCount{k, v.Counts.ByCategory[k]})
	}
	return out
}

// savedFilterLink is a saved filter as the navigation links it.
type savedFilterLink struct{ ID, Name, Href string }

type categoryCount struct {
	Category string
	N        int
}

// Filter options the queue offers.
var (
	ticketStatuses   = []feedback.Status{feedback.StatusNew, feedback.StatusOpen, feedback.StatusPending, feedback.StatusResolved, feedback.StatusClosed}
	ticketPriorities = []string{feedback.PriorityLow, feedback.PriorityNormal, feedback.PriorityHigh, feedback.PriorityUrgent}
	ticketCategories = []string{feedback.CategoryGeneral, feedback.CategoryComplaint, feedback.CategoryCorrection, feedback.CategoryConsent,
		feedback.CategoryOptOut, feedback.CategorySurvey}
	ticketChannels = []channels.Name{channels.WeChat, channels.SMS, channels.Email, channels.Portal, channels.Devbox}
)

// queueFilter reads the queue's filter from the query string; ok is
// false when the dates are not valid.
func queueFilter(q url.Values, m *staff.Member) (f feedback.Filter, view string, ok bool) {
	f = feedback.Filter{Status: feedback.Status(q.Get("status")), Channel: q.Get("channel"), Category: q.Get("category"), Sort: q.Get("sort"),
		Cursor: q.Get("cursor")}
	view = q.Get("view")
	switch view {
	case "mine":
		f.AssigneeID = m.ID
	case "unassigned":
		f.Unassigned = true
	case "breached":
		f.Breached = true
	default:
		view = ""
	}
	f.CreatedFrom, f.CreatedBefore, ok = dateRange(q, m)
	return f, view, ok
}

// matches reports whether a ticket belongs in the queue filtered by f, so
// a live update can drop a row that left it.
func matches(t *feedback.Ticket, f feedback.Filter, now time.Time) bool {
	switch {
	case f.Status == "" && !t.IsOpen(), f.Status != "" && t.Status != f.Status,
		f.Unassigned && t.AssigneeID != "", f.AssigneeID != "" && t.AssigneeID != f.AssigneeID,
		f.Channel != "" && string(t.Channel) != f.Channel, f.Category != "" && t.Category != f.Category,
		f.CustomerIDs != nil && !slices.Contains(f.CustomerIDs, t.CustomerID),
		!f.CreatedFrom.IsZero() && t.CreatedAt.Before(f.CreatedFrom), !f.CreatedBefore.IsZero() && !t.CreatedAt.Before(f.CreatedBefore):
		return false
	case f.Breached:
		return t.Breached || (t.IsOpen() && t.SLADue != nil && t.SLADue.Before(now))
	}
	return true
}

// handleTicketsPage is the queue: counts on the left, the filtered list
// sorted by SLA, a page at a time. An empty queue says how tickets arrive.
func (s *Dashboard) handleTicketsPage(c echo.Context) error {
	p := &page{Title: "nav.tickets", Nav: "tickets", Flash: c.QueryParam("done")}
	m := member(c)
	if !m.Role.Can(staff.ReadTickets) {
		return s.render(c, http.StatusOK, "tickets", p.with(queueView{}))
	}
	if err := s.governance.CheckAccess(c.Request().Context(), m); err != nil {
		return err
	}
	ctx := c.Request().Context()
	q := c.QueryParams()
	f, view, ok := queueFilter(q, m)
	if !ok {
		return badInput("errors.agent.dates")
	}
	search, err := s.searchTickets(ctx, m, q.Get("q"))
	if err != nil {
		return err
	}
	if search.By == "ticket" {
		if _, err := s.tickets.FindTicketByID(ctx, strings.ToUpper(search.Query)); err == nil {
			return c.Redirect(http.StatusSeeOther, "/tickets/"+strings.ToUpper(search.Query))
		} else if handover.ErrorCode(err) != handover.ENOTFOUND {
			return err
		}
		f.CustomerIDs = []string{} // no such ticket: an empty list
	}
	search.apply(&f)
	list, next, err := s.tickets.FindTickets(ctx, f)
	if err != nil {
		return err
	}
	if search.By != "" && search.By != "ticket" {
		detail := fmt.Sprintf("by=%s whole=%t customers=%d tickets=%d", search.By, search.WholeName, search.Found, len(list))
		if err := s.recordAccess(c, "ticket.search", "ticket", "", detail); err != nil {
			return err
		}
	}
	counts, err := s.tickets.Counts(ctx, m.ID)
	if err != nil {
		return err
	}
	v := queueView{Counts: counts, Query: q, View: view, Allowed: true, Statuses: ticketStatuses, Channels: ticketChannels,
		Categories: ticketCategories, Search: search, BulkDone: q.Get("n"), Failed: q.Get("failed")}
	saved, err := s.tickets.SavedFilters(ctx, m.ID)
	if err != nil {
		return err
	}
	for _, f := range saved {
		v.Saved = append(v.Saved, savedFilterLink{ID: f.ID, Name: f.Name, Href: "/tickets?" + f.Query})
	}
	if m.Role.Can(staff.WriteTickets) {
		if v.Staff, err = s.ticketStaff(ctx); err != nil {
			return err
		}
	}
	p.locale = m.Locale
	if v.Rows, err = s.ticketRows(ctx, p, m, list); err != nil {
		return err
	}
	if next != "" {
		nq := maps.Clone(q)
		nq.Del("done")
		nq.Set("cursor", next)
		v.Next = "/tickets?" + nq.Encode()
	}
	return s.render(c, http.StatusOK, "tickets", p.with(v))
}

// with sets the page's data and returns the page.
func (p *page) with(data any) *page { p.Data = data; return p }

// handleTicketRow renders one queue row for the live list: 204 when the
// ticket no longer belongs in the queue as the page filters it. Header
// X-Ticket-Counts carries the navigation's counts.
func (s *Dashboard) handleTicketRow(c echo.Context) error {
	ctx := c.Request().Context()
	t, err := s.tickets.FindTicketByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	counts, err := s.tickets.Counts(ctx, member(c).ID)
	if err != nil {
		return err
	}
	// The navigation's counts ride along, so the live page updates them.
	c.Response().Header().Set("X-Ticket-Counts", countValues(counts).Encode())
	f, _, ok := queueFilter(c.QueryParams(), member(c))
	if !ok {
		return badInput("errors.agent.dates")
	}
	if in, err := s.rowInSearch(ctx, member(c), c.QueryParam("q"), t); err != nil {
		return err
	} else if !in || !matches(t, f, time.Now()) {
		return c.NoContent(http.StatusNoContent)
	}
	p := &page{locale: member(c).Locale}
	rows, err := s.ticketRows(ctx, p, member(c), []*feedback.Ticket{t})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := s.views.pages["tickets"].ExecuteTemplate(&buf, "row", rows[0]); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

// countValues are the navigation's counts by the id the page gives each
// (count-open, count-cat-complaint, ...).
func countValues(counts *feedback.Counts) url.Values {
	v := url.Values{"open": {feedback.CountText(counts.Open)}, "mine": {feedback.CountText(counts.Mine)},
		"unassigned": {feedback.CountText(counts.Unassigned)}, "breached": {feedback.CountText(counts.Breached)}}
	for _, k := range ticketCategories {
		v.Set("cat-"+k, feedback.CountText(counts.ByCategory[k]))
	}
	return v
}

// rowInSearch reports whether a live row belongs in the queue searched by
// q: a name search checks the one customer rather than search again.
func (s *Dashboard) rowInSearch(ctx context.Context, m *staff.Member, q string, t *feedback.Ticket) (bool, error) {
	q = strings.TrimSpace(q)
	switch {
	case q == "":
		return true, nil
	case isTicketNumber(q):
		return strings.EqualFold(q, t.ID), nil
	case t.CustomerID == "":
		return false, nil
	case strings.Contains(q, "@") || looksLikePhone(q):
		search, err := s.searchTickets(ctx, m, q)
		return slices.Contains(search.customers, t.CustomerID), err
	}
	cu, err := s.customers.FindCustomerByID(ctx, t.CustomerID)
	if err != nil {
		return false, err
	}
	name, q := strings.ToLower(strings.TrimSpace(cu.Name)), strings.ToLower(q)
	if m.Role.Can(staff.RevealCustomers) {
		return strings.Contains(name, q), nil
	}
	return name == q, nil
}

// ticketStaff are the active members who work tickets: whom a ticket may
// be assigned to.
func (s *Dashboard) ticketStaff(ctx context.Context) ([]*staff.Member, error) {
	members, err := s.staff.FindMembers(ctx)
	if err != nil {
		return nil, err
	}
	var out []*staff.Member
	for _, sm := range members {
		if sm.DisabledAt == nil && sm.Role.Can(staff.WriteTickets) {
			out = append(out, sm)
		}
	}
	return out, nil
}

// ticketRows prepares queue rows: customers masked, the preview line of
// each (audited by Previews), assignees by name.
func (s *Dashboard) ticketRows(ctx context.Context, p *page, m *staff.Member, list []*feedback.Ticket) ([]ticketRow, error) {
	actor, pickable := m.Actor(), m.Role.Can(staff.WriteTickets)
	ids, customerIDs := make([]string, len(list)), []string{}
	for i, t := range list {
		ids[i] = t.ID
		if t.CustomerID != "" {
			customerIDs = append(customerIDs, t.CustomerID)
		}
	}
	if len(list) == 0 {
		return nil, nil
	}
	previews, err := s.tickets.Previews(ctx, ids, actor)
	if err != nil {
		return nil, err
	}
	found, err := s.customers.FindCustomersByIDs(ctx, customerIDs)
	if err != nil {
		return nil, err
	}
	names, err := s.staffNames(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rows := make([]ticketRow, len(list))
	for i, t := range list {
		r := ticketRow{ID: t.ID, Channel: string(t.Channel), Preview: previews[t.ID], Status: t.Status.String(),
			StatusLabel: p.T(t.Status.Key()), Priority: t.Priority, PriorityLabel: p.T("ticket.priority." + t.Priority),
			Category: t.Category, Assignee: names[t.AssigneeID], Unmatched: t.Unmatched,
			ChannelLabel: channelLabel(p.locale, string(t.Channel)), Select: p.T("agent.bulk.select"), Pickable: pickable}
		if cu := found[t.CustomerID]; cu != nil {
			r.Customer = cu.Masked().Name
		}
		if r.Customer == "" {
			r.Customer = p.T("ticket.unknown_sender")
		}
		if r.Assignee != "" {
			r.AssigneeInitial = string([]rune(r.Assignee)[:1])
		}
		r.SLA, r.Urgency = slaCountdown(p.locale, now, t)
		if t.SLADue != nil {
			r.Due = t.SLADue.Format(time.RFC3339)
		}
		rows[i] = r
	}
	return rows, nil
}

// channelLabel is a channel's name in the reader's language.
func channelLabel(locale, name string) string {
	return translate(locale, channels.Name(name).Key())
}

// staffNames maps staff ids to names (the email when unnamed).
func (s *Dashboard) staffNames(ctx context.Context) (map[string]string, error) {
	members, err := s.staff.FindMembers(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, m := range members {
		out[m.ID] = m.Name
		if m.Name == "" {
			out[m.ID] = m.Email
		}
	}
	return out, nil
}

// slaCountdown says how long until the ticket's next deadline, or how long
// past it, with an urgency class: breached, soon (< 1 h), near (< 4 h),
// ok, none.
func slaCountdown(locale string, now time.Time, t *feedback.Ticket) (string, string) {
	if t.SLADue == nil || !t.IsOpen() {
		return "—", "none"
	}
	d := t.SLADue.Sub(now)
	switch {
	case d < 0:
		return translate(locale, "sla.overdue") + " " + span(locale, -d), "breached"
	case t.Breached: // the first-response deadline passed; resolution is still ahead
		return span(locale, d), "breached"
	case d < time.Hour:
		return span(locale, d), "soon"
	case d < 4*time.Hour:
		return span(locale, d), "near"
	}
	return span(locale, d), "ok"
}

// span is a duration in days, hours or minutes, shortest first.
func span(locale string, d time.Duration) string {
	zh := locale != "en"
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Hour:
		return unit(zh, int(d/time.Minute), "分钟", "min")
	case d < 48*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if zh {
			return fmt.Sprintf("%d 小时 %d 分钟", h, m)
		}
		return fmt.Sprintf("%d h %d min", h, m)
	}
	return unit(zh, int(d/(24*time.Hour)), "天", "d")
}
