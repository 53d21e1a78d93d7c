package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/staff"
)

func (s *Dashboard) registerCustomerPages() {
	s.pageRoute(http.MethodGet, "/customers", s.handleCustomersPage, staff.ReadCustomers)
	s.pageRoute(http.MethodGet, "/customers/:id", s.handleCustomerPage, staff.ReadCustomers)
	s.pageRoute(http.MethodPost, "/customers/:id/reveal", s.handleCustomerRevealPage, staff.RevealCustomers)
}

// nameScanLimit bounds a search by name: names are sealed, so a name
// search opens customers page by page, newest import order, up to this many.
const nameScanLimit = 2000

type customersView struct {
	Query     string
	Customers []customers.Customer
	// Scanned is set for a name search: how many customers were opened.
	Scanned int
	// WholeName is set for a name search by a member who may not reveal:
	// only the whole name matches.
	WholeName bool
	Next      string
}

// handleCustomersPage lists customers masked. The search box takes an exact
// phone or email (found through the blind index) or part of a name.
func (s *Dashboard) handleCustomersPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.QueryParam("q"))
	v := customersView{Query: q}
	f := customers.Filter{Cursor: c.QueryParam("cursor"), Limit: 50}
	switch {
	case q == "":
	case strings.Contains(q, "@"):
		f.Email = q
	case looksLikePhone(q):
		f.Phone = q
	default:
		return s.customerNameSearch(c, v)
	}
	list, next, err := s.customers.FindCustomers(ctx, f)
	if err != nil {
		return err
	}
	for _, cu := range list {
		v.Customers = append(v.Customers, cu.Masked())
	}
	v.Next = next
	if err := s.recordAccess(c, "customer.list", "customer", "", fmt.Sprintf("count=%d", len(list))); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "customers", &page{Title: "nav.customers", Nav: "customers", Search: q, Data: v})
}

// exactCustomer returns the id of the one customer an exact phone number
// or email address names (through the blind index), or q itself as a
// customer id, which the caller's lookup checks ("" stays "").
func (s *Dashboard) exactCustomer(ctx context.Context, q string) (string, error) {
	if !strings.Contains(q, "@") && !looksLikePhone(q) {
		return q, nil
	}
	f := customers.Filter{Limit: 2, Email: q}
	if looksLikePhone(q) {
		f = customers.Filter{Limit: 2, Phone: q}
	}
	list, _, err := s.customers.FindCustomers(ctx, f)
	if err != nil {
		return "", err
	}
	if len(list) != 1 {
		return "", handover.Errorf(handover.EINVALID, "No single customer has this phone number or email address.")
	}
	return list[0].ID, nil
}

func looksLikePhone(q string) bool {
	digits := 0
	for _, r := range q {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 5
}

// customerNameSearch opens up to nameScanLimit customers and keeps those
// whose name contains the query; the page says how many were searched.
// Without customers.reveal only the whole name matches: a search for part
// of a name, answered hit or miss, would unmask names a character at a
// time.
func (s *Dashboard) customerNameSearch(c echo.Context, v customersView) error {
	v.WholeName = !member(c).Role.Can(staff.RevealCustomers)
	found, scanned, err := s.customersNamed(c.Request().Context(), v.Query, v.WholeName, 50)
	if err != nil {
		return err
	}
	v.Scanned = scanned
	for _, cu := range found {
		v.Customers = append(v.Customers, cu.Masked())
	}
	if err := s.recordAccess(c, "customer.search", "customer", "", fmt.Sprintf("by=name whole=%t count=%d", v.WholeName, len(v.Customers))); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "customers", &page{Title: "nav.customers", Nav: "customers", Search: v.Query, Data: v})
}

// customersNamed opens up to nameScanLimit customers, newest import
// order, and returns at most want whose name contains q (is q, with
// whole) and how many were opened.
func (s *Dashboard) customersNamed(ctx context.Context, q string, whole bool, want int) ([]*customers.Customer, int, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	matches := func(name string) bool {
		if whole {
			return strings.ToLower(strings.TrimSpace(name)) == q
		}
		return strings.Contains(strings.ToLower(name), q)
	}
	var found []*customers.Customer
	cursor, scanned := "", 0
	for scanned < nameScanLimit && len(found) < want {
		list, next, err := s.customers.FindCustomers(ctx, customers.Filter{Cursor: cursor, Limit: 500})
		if err != nil {
			return nil, 0, err
		}
		for _, cu := range list {
			if matches(cu.Name) && len(found) < want {
				found = append(found, cu)
			}
		}
		scanned += len(list)
		if cursor = next; next == "" {
			break
		}
	}
	return found, scanned, nil
}

type customerView struct {
	Customer   customers.Customer
	Revealed   bool
	Consent    []customers.ConsentEvent
	Deliveries []campaigns.CustomerDelivery
	Tickets    []*feedback.Ticket
}

func (s *Dashboard) customerPage(c echo.Context, cu *customers.Customer, revealed bool) error {
	ctx := c.Request().Context()
	history, err := s.customers.ConsentHistory(ctx, cu.ID)
	if err != nil {
		return err
	}
	v := customerView{Customer: *cu, Revealed: revealed, Consent: history}
	if v.Deliveries, err = s.campaigns.FindCustomerDeliveries(ctx, cu.ID, 20); err != nil {
		return err
	}
	if member(c).Role.Can(staff.ReadTickets) {
		for _, status := range []feedback.Status{"", feedback.StatusResolved} {
			list, _, err := s.tickets.FindTickets(ctx, feedback.Filter{CustomerID: cu.ID, Status: status, Limit: 20})
			if err != nil {
				return err
			}
			v.Tickets = append(v.Tickets, list...)
		}
	}
	if !revealed {
		v.Customer = cu.Masked()
		// Evidence (address, browser) is personal data: shown on reveal.
		for i := range v.Consent {
			v.Consent[i].IP, v.Consent[i].UserAgent = "", ""
		}
	}
	return s.render(c, http.StatusOK, "customer", &page{Title: "nav.customers", Nav: "customers", Data: v})
}

// handleCustomerPage shows one customer masked, with the consent ledger.
func (s *Dashboard) handleCustomerPage(c echo.Context) error {
	cu, err := s.customers.FindCustomerByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.recordAccess(c, "customer.view", "customer", cu.ID, ""); err != nil {
		return err
	}
	return s.customerPage(c, cu, false)
}

// handleCustomerRevealPage shows the customer unmasked for the reason
// given; RevealCustomer audits it. The answer is never cached or
// redirected to, so reloading does not reveal again silently.
func (s *Dashboard) handleCustomerRevealPage(c echo.Context) error {
	cu, err := s.customers.RevealCustomer(c.Request().Context(), c.Param("id"), member(c).Actor(), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return s.customerPage(c, cu, true)
}
