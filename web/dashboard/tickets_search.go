package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/staff"
)

// ticketSearch is the queue's search box resolved: the customers a phone,
// email or name names (through the blind indexes; a name by opening
// customers, whole names only for a role that may not reveal), or a
// ticket number.
type ticketSearch struct {
	Query     string
	By        string // phone | email | name | ticket | ""
	WholeName bool   // a name search matched whole names only
	Scanned   int    // customers opened by a name search
	Found     int    // customers found
	customers []string
}

// badInput is a 400 whose message is the catalog's text of key (an
// errors.* key): the page words it in the member's language, the log and
// the API in English.
func badInput(key string) error {
	return &handover.Error{Code: handover.EINVALID, Message: locales.T(locales.English, key), Key: key}
}

// searchTickets resolves the search box. A ticket number finds the ticket
// (By "ticket", no customers); anything else is a customer's phone,
// email or name.
func (s *Dashboard) searchTickets(ctx context.Context, m *staff.Member, q string) (ticketSearch, error) {
	q = strings.TrimSpace(q)
	ts := ticketSearch{Query: q}
	switch {
	case q == "":
		return ts, nil
	case isTicketNumber(q):
		ts.By = "ticket"
		return ts, nil
	case strings.Contains(q, "@"):
		ts.By = "email"
	case looksLikePhone(q):
		ts.By = "phone"
	default:
		ts.By, ts.WholeName = "name", !m.Role.Can(staff.RevealCustomers)
		found, scanned, err := s.customersNamed(ctx, q, ts.WholeName, 200)
		if err != nil {
			return ts, err
		}
		ts.Scanned = scanned
		for _, cu := range found {
			ts.customers = append(ts.customers, cu.ID)
		}
		ts.Found = len(ts.customers)
		return ts, nil
	}
	f := customers.Filter{Limit: 200, Email: q}
	if ts.By == "phone" {
		f = customers.Filter{Limit: 200, Phone: q}
	}
	list, _, err := s.customers.FindCustomers(ctx, f)
	if handover.ErrorCode(err) == handover.EINVALID {
		list, err = nil, nil // not a phone or address any customer could have
	}
	if err != nil {
		return ts, err
	}
	for _, cu := range list {
		ts.customers = append(ts.customers, cu.ID)
	}
	ts.Found = len(ts.customers)
	return ts, nil
}

// isTicketNumber reports whether q is a ticket's number (a ULID).
func isTicketNumber(q string) bool {
	if len(q) != 26 {
		return false
	}
	_, err := ulid.ParseStrict(strings.ToUpper(q))
	return err == nil
}

// apply narrows the filter to the search's customers.
func (ts ticketSearch) apply(f *feedback.Filter) {
	if ts.By != "" && ts.By != "ticket" {
		f.CustomerIDs = append([]string{}, ts.customers...)
	}
}

// dateRange reads the queue's from and to (YYYY-MM-DD, both days
// included) in the member's time zone.
func dateRange(q url.Values, m *staff.Member) (from, before time.Time, ok bool) {
	zone := loadZone(m.TimeZone)
	if m.TimeZone == "" {
		zone = loadZone("Asia/Shanghai")
	}
	parse := func(name string) (time.Time, bool) {
		v := strings.TrimSpace(q.Get(name))
		if v == "" {
			return time.Time{}, true
		}
		t, err := time.ParseInLocation("2006-01-02", v, zone)
		return t, err == nil
	}
	from, okFrom := parse("from")
	to, okTo := parse("to")
	if !okFrom || !okTo || (!to.IsZero() && !from.IsZero() && to.Before(from)) {
		return time.Time{}, time.Time{}, false
	}
	if !to.IsZero() {
		before = to.AddDate(0, 0, 1)
	}
	return from, before, true
}

// savedQuery is the part of a queue query a saved filter keeps: never
// the search box, which may hold a customer's phone, email or name.
func savedQuery(form url.Values) string {
	keep := url.Values{}
	for _, k := range []string{"view", "status", "channel", "category", "sort", "from", "to"} {
		if v := strings.TrimSpace(form.Get(k)); v != "" {
			keep.Set(k, v)
		}
	}
	return keep.Encode()
}

// handleTicketFilterSave keeps the queue's current filter under a name
// for the signed-in member, and shows the queue filtered by it.
func (s *Dashboard) handleTicketFilterSave(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return badInput("errors.agent.form")
	}
	name := strings.TrimSpace(form.Get("name"))
	if name == "" || len([]rune(name)) > 60 {
		return badInput("errors.agent.filter_name")
	}
	q := savedQuery(form)
	if _, _, ok := dateRange(form, member(c)); !ok {
		return badInput("errors.agent.dates")
	}
	if _, err := s.tickets.SaveFilter(c.Request().Context(), member(c).ID, name, q); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/tickets?"+joinQuery(q, "done=filter_saved"))
}

// handleTicketFilterDelete deletes one of the member's saved filters.
func (s *Dashboard) handleTicketFilterDelete(c echo.Context) error {
	if err := s.tickets.DeleteFilter(c.Request().Context(), member(c).ID, c.Param("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/tickets?done=filter_deleted")
}

func joinQuery(q, more string) string {
	if q == "" {
		return more
	}
	return q + "&" + more
}

// Bulk actions of the queue.
const maxBulk = 100

// handleTicketBulk applies one action to the tickets ticked in the queue:
// assign (to the staff member chosen, or to oneself), resolve, or set
// the category. Each ticket's change is audited as usual (ticket.update),
// and the batch once more (ticket.bulk); a ticket that cannot change (a
// merged one) is counted and skipped.
func (s *Dashboard) handleTicketBulk(c echo.Context) error {
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return badInput("errors.agent.form")
	}
	ids := slices.Compact(slices.Sorted(slices.Values(form["id"])))
	if len(ids) == 0 {
		return badInput("errors.agent.bulk_none")
	}
	if len(ids) > maxBulk {
		return badInput("errors.agent.bulk_many")
	}
	m := member(c)
	var u feedback.Update
	action := form.Get("action")
	switch action {
	case "assign_me":
		u.AssigneeID = &m.ID
	case "assign":
		a := form.Get("assignee_id")
		u.AssigneeID = &a
	case "resolve":
		st := feedback.StatusResolved
		u.Status = &st
	case "categorise":
		cat := form.Get("category")
		if !slices.Contains(ticketCategories, cat) {
			return badInput("errors.agent.bulk_category")
		}
		u.Category = &cat
	default:
		return badInput("errors.agent.bulk_action")
	}
	done, failed := 0, 0
	for _, id := range ids {
		_, err := s.tickets.UpdateTicket(ctx, id, u, m.Actor())
		switch code := handover.ErrorCode(err); {
		case err == nil:
			done++
		case code == handover.EINVALID && action == "assign":
			return err // names no active staff member: the same for every ticket
		case code == handover.EINVALID, code == handover.ECONFLICT, code == handover.ENOTFOUND:
			failed++
		default:
			return err
		}
	}
	if err := s.recordAccess(c, "ticket.bulk", "ticket", ids[0], fmt.Sprintf("action=%s done=%d failed=%d tickets=%s", action, done, failed,
		strings.Join(ids, ","))); err != nil {
		return err
	}
	back := url.Values{}
	if ret, err := url.ParseQuery(form.Get("return")); err == nil {
		back = ret
	}
	back.Del("done")
	back.Del("n")
	back.Del("failed")
	back.Set("done", "bulk_done")
	back.Set("n", fmt.Sprint(done))
	if failed > 0 {
		back.Set("done", "bulk_partial")
		back.Set("failed", fmt.Sprint(failed))
	}
	return c.Redirect(http.StatusSeeOther, "/tickets?"+back.Encode())
}
