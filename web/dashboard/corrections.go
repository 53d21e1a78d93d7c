package dashboard

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *Dashboard) registerCorrectionPages() {
	s.pageRoute(http.MethodGet, "/corrections", s.handleCorrectionsPage, staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/corrections/:id/reveal", s.handleCorrectionRevealPage, staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/corrections/:id/approve", s.handleCorrectionApprovePage, staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/corrections/:id/reject", s.handleCorrectionRejectPage, staff.ReviewCorrections)
}

// correctionsView is the review page: requests with current and proposed
// values side by side, masked except the one revealed.
type correctionsView struct {
	Status   string
	Requests []correctionRow
	Next     string
}

// correctionRow is one request and, per proposed field, its two values.
type correctionRow struct {
	rights.CorrectionRequest
	Revealed bool
	Changes  []fieldChange
	// Customer is the customer's name, masked (their id once erased).
	Customer string
}

type fieldChange struct{ Field, Current, Proposed string }

func toCorrectionRow(r rights.CorrectionRequest, revealed bool) correctionRow {
	if !revealed {
		r = r.Masked()
	}
	row := correctionRow{CorrectionRequest: r, Revealed: revealed}
	values := func(f rights.CorrectionFields, name string) string {
		switch name {
		case customers.FieldName:
			return f.Name
		case customers.FieldPhone:
			return f.Phone
		case customers.FieldEmail:
			return f.Email
		case customers.FieldAddress:
			return f.Address
		case customers.FieldCompany:
			return f.Company
		}
		return ""
	}
	for _, name := range r.Fields {
		row.Changes = append(row.Changes, fieldChange{Field: name, Current: values(r.Current, name), Proposed: values(r.Proposed, name)})
	}
	return row
}

// handleCorrectionsPage lists correction requests (pending by default),
// masked; the list is audited as a read of personal data.
func (s *Dashboard) handleCorrectionsPage(c echo.Context) error {
	return s.correctionsPage(c, nil)
}

func (s *Dashboard) correctionsPage(c echo.Context, revealed *rights.CorrectionRequest) error {
	f := rights.CorrectionFilter{Status: rights.CorrectionStatus(c.QueryParam("status")), Cursor: c.QueryParam("cursor"), Limit: 50}
	list, next, err := s.rights.FindCorrections(c.Request().Context(), f)
	if err != nil {
		return err
	}
	v := correctionsView{Status: f.Status.String()}
	if v.Status == "" {
		v.Status = rights.CorrectionPending.String()
	}
	ids := make([]string, len(list))
	for i, r := range list {
		ids[i] = r.CustomerID
	}
	found, err := s.customers.FindCustomersByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	for _, r := range list {
		row := toCorrectionRow(*r, false)
		if revealed != nil && r.ID == revealed.ID {
			row = toCorrectionRow(*revealed, true)
		}
		if row.Customer = r.CustomerID; found[r.CustomerID] != nil && found[r.CustomerID].Name != "" {
			row.Customer = found[r.CustomerID].Masked().Name
		}
		v.Requests = append(v.Requests, row)
	}
	if next != "" {
		v.Next = "/corrections?status=" + v.Status + "&cursor=" + next
	}
	if err := s.recordAccess(c, "correction.list", "correction", "", "count="+strconv.Itoa(len(list))); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "corrections", &page{Title: "nav.corrections", Nav: "corrections", Flash: c.QueryParam("done"), Data: v})
}

// handleCorrectionRevealPage shows one request unmasked for the reason
// given (RevealCorrection audits it); its role must also reveal customers.
func (s *Dashboard) handleCorrectionRevealPage(c echo.Context) error {
	if !member(c).Role.Can(staff.RevealCustomers) {
		return handover.Errorf(handover.EFORBIDDEN, "Your role may not do this (needs %s).", staff.RevealCustomers)
	}
	r, err := s.rights.RevealCorrection(c.Request().Context(), c.Param("id"), member(c).Actor(), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return s.correctionsPage(c, r)
}

// handleCorrectionApprovePage applies the request to the customer (the
// domain audits it).
func (s *Dashboard) handleCorrectionApprovePage(c echo.Context) error {
	if _, err := s.rights.ApproveCorrection(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/corrections?done=approved")
}

// handleCorrectionRejectPage refuses the request with the reason the
// customer is owed, sent to them on their channel; the flash says
// whether it went (the portal shows it either way).
func (s *Dashboard) handleCorrectionRejectPage(c echo.Context) error {
	_, told, err := kit.RejectCorrection(c.Request().Context(), s.customers, s.rights, s.tickets, s.log, c.Param("id"), member(c), c.FormValue("reason"))
	if err != nil {
		return err
	}
	if !told {
		return c.Redirect(http.StatusSeeOther, "/corrections?done=rejected_untold")
	}
	return c.Redirect(http.StatusSeeOther, "/corrections?done=rejected_told")
}
