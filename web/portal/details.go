package portal

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/rights"
)

// detailsView is the details page: the customer's data masked, the
// correction form (refilled after a bad submit), the open request, and on
// the code step the request waiting for its code.
type detailsView struct {
	// Full says the rows are unmasked: the customer confirmed a code on
	// this link (the same grant as "my data").
	Full    bool
	Rows    []detailRow
	Form    rights.CorrectionFields
	Open    *rights.CorrectionRequest
	Request string // id of the request on the code step
	To      string // masked contact the code went to
	Notice  string // a line above the code form (code sent again)
	// Rejected is the customer's latest request when staff rejected it:
	// the fields it proposed and the reason they are owed (Art. 50).
	Rejected *rejectedRequest
}

type rejectedRequest struct{ Fields, Reason string }

type detailRow struct{ Field, Label, Value string }

func detailRows(cu *customers.Customer, t map[string]string, full bool) []detailRow {
	if full {
		return []detailRow{
			{"name", t["lbl_name"], cu.Name},
			{"phone", t["lbl_phone"], cu.Phone},
			{"email", t["lbl_email"], cu.Email},
			{"address", t["lbl_address"], cu.Address},
			{"company", t["lbl_company"], cu.Company},
		}
	}
	return []detailRow{
		{"name", t["lbl_name"], pii.MaskName(cu.Name)},
		{"phone", t["lbl_phone"], pii.MaskPhone(cu.Phone)},
		{"email", t["lbl_email"], pii.MaskEmail(cu.Email)},
		{"address", t["lbl_address"], pii.MaskText(cu.Address)},
		{"company", t["lbl_company"], pii.MaskText(cu.Company)},
	}
}

// handlePortalDetails shows the customer's details masked and the form to
// propose corrections; ?saved=1 is the result page once a request is with
// staff.
func (s *Portal) handlePortalDetails(c echo.Context) error {
	v := s.newPortalView(c)
	if c.QueryParam("saved") == "1" {
		v.Result = resultView{Title: v.T["details_saved"], Detail: v.T["details_saved_detail"], Action: v.T["back_details"], Href: v.Base + "/details"}
		return s.renderPortal(c, http.StatusOK, "result", v)
	}
	return s.renderDetails(c, v, http.StatusOK, rights.CorrectionFields{})
}

func (s *Portal) renderDetails(c echo.Context, v *portalView, status int, form rights.CorrectionFields) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	cu, err := s.customers.FindCustomerByID(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	list, err := s.rights.CustomerCorrections(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	full := false
	if ck, err := c.Cookie(dataCookie); err == nil && s.rights.CheckDataAccess(ctx, l.CustomerID, ck.Value) == nil {
		// The customer's own access, audited as such.
		if cu, err = s.customers.RevealCustomer(ctx, l.CustomerID, "customer:"+l.CustomerID, "own details on the portal after a code"); err != nil {
			return err
		}
		full = true
	}
	v.Details = detailsView{Full: full, Rows: detailRows(cu, v.T, full), Form: form}
	for _, r := range list {
		if r.Status == rights.CorrectionPending || r.Status == rights.CorrectionAwaitingConfirmation {
			m := r.Masked()
			v.Details.Open = &m
		}
	}
	if n := len(list); n > 0 && list[n-1].Status == rights.CorrectionRejected {
		v.Details.Rejected = rejectedOf(list[n-1], v.T)
	}
	return s.renderPortal(c, status, "details", v)
}

// handlePortalDetailsSubmit records the proposal as a correction request
// (customers.RequestCorrection: the same proposal twice is one request). A
// new phone or email goes on to the code step; the rest is with staff.
func (s *Portal) handlePortalDetailsSubmit(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	form := rights.CorrectionFields{Name: c.FormValue("name"), Phone: c.FormValue("phone"), Email: c.FormValue("email"),
		Address: c.FormValue("address"), Company: c.FormValue("company")}
	req, err := s.rights.RequestCorrection(ctx, rights.CorrectionInput{CustomerID: l.CustomerID, Proposed: form,
		Source: customers.SourcePortal, LinkID: l.ID, Actor: "customer:" + l.CustomerID, Locale: v.Lang}, s.sendCode)
	switch handover.ErrorCode(err) {
	case "":
	case handover.EINVALID:
		v.Problem = correctionProblem(err, v.T)
		return s.renderDetails(c, v, http.StatusBadRequest, form)
	case handover.ETOOMANY:
		v.Problem = codeThrottleProblem(err, v.T)
		return s.renderDetails(c, v, http.StatusTooManyRequests, form)
	default:
		return err
	}
	if req.Status == rights.CorrectionAwaitingConfirmation {
		return c.Redirect(http.StatusSeeOther, v.Base+"/details/confirm?r="+url.QueryEscape(req.ID))
	}
	return c.Redirect(http.StatusSeeOther, v.Base+"/details?saved=1")
}

// awaiting finds the customer's request id still waiting for its code;
// nil when it is not (confirmed, replaced or another customer's).
func (s *Portal) awaiting(c echo.Context, id string) (*rights.CorrectionRequest, error) {
	list, err := s.rights.CustomerCorrections(c.Request().Context(), portalLinkOf(c).CustomerID)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, nil
}

// handlePortalDetailsCode is the code step: enter the code sent to the
// new phone or email.
func (s *Portal) handlePortalDetailsCode(c echo.Context) error {
	v := s.newPortalView(c)
	r, err := s.awaiting(c, c.QueryParam("r"))
	if err != nil {
		return err
	}
	return s.renderCodeStep(c, v, http.StatusOK, r)
}

func (s *Portal) renderCodeStep(c echo.Context, v *portalView, status int, r *rights.CorrectionRequest) error {
	switch {
	case r == nil:
		return c.Redirect(http.StatusSeeOther, v.Base+"/details")
	case r.Status == rights.CorrectionPending || r.Status == rights.CorrectionApproved:
		// The back button after a confirmed code.
		return c.Redirect(http.StatusSeeOther, v.Base+"/details?saved=1")
	case r.Status != rights.CorrectionAwaitingConfirmation:
		return c.Redirect(http.StatusSeeOther, v.Base+"/details")
	}
	v.Details.Request = r.ID
	v.Details.To = pii.MaskPhone(r.Proposed.Phone)
	if r.Proposed.Phone == "" {
		v.Details.To = pii.MaskEmail(r.Proposed.Email)
	}
	return s.renderPortal(c, status, "details_code", v)
}

// handlePortalDetailsConfirm checks the code; a right one passes the
// request to staff (a second submit finds it already passed).
func (s *Portal) handlePortalDetailsConfirm(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	id := c.FormValue("r")
	_, err := s.rights.ConfirmCorrection(ctx, l.CustomerID, id, c.FormValue("code"))
	switch handover.ErrorCode(err) {
	case "":
		return c.Redirect(http.StatusSeeOther, v.Base+"/details?saved=1")
	case handover.EINVALID:
		v.Problem = v.T["code_wrong"]
	case handover.ENOTFOUND:
		return c.Redirect(http.StatusSeeOther, v.Base+"/details")
	default:
		return err
	}
	r, err := s.awaiting(c, id)
	if err != nil {
		return err
	}
	return s.renderCodeStep(c, v, http.StatusBadRequest, r)
}

// handlePortalDetailsResend sends a new code, within the resend limits.
func (s *Portal) handlePortalDetailsResend(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	id := c.FormValue("r")
	_, err := s.rights.ResendCorrectionCode(ctx, l.CustomerID, id, v.Lang, s.sendCode)
	status := http.StatusOK
	switch handover.ErrorCode(err) {
	case "":
		v.Details.Notice = v.T["code_resent"]
	case handover.ETOOMANY:
		v.Problem, status = codeThrottleProblem(err, v.T), http.StatusTooManyRequests
	case handover.ENOTFOUND, handover.ECONFLICT:
	default:
		return err
	}
	r, err := s.awaiting(c, id)
	if err != nil {
		return err
	}
	return s.renderCodeStep(c, v, status, r)
}

// correctionProblem words a refused proposal in the page's language; the
// domain's messages name the field, never the value.
func correctionProblem(err error, t map[string]string) string {
	msg := handover.ErrorMessage(err)
	switch {
	case strings.HasPrefix(msg, "Nothing to correct"):
		return t["details_same"]
	case strings.Contains(msg, "one at a time"):
		return t["details_one_contact"]
	case strings.HasPrefix(msg, "phone:"):
		return t["details_bad_phone"]
	case strings.HasPrefix(msg, "email:"):
		return t["details_bad_email"]
	}
	return t["details_bad"]
}

// codeThrottleProblem words a resend limit: a minute between codes, five
// an hour.
func codeThrottleProblem(err error, t map[string]string) string {
	if strings.Contains(handover.ErrorMessage(err), "minute") {
		return t["code_wait_minute"]
	}
	return t["code_wait_hour"]
}

// rejectedOf is a rejected request as the details page tells it: the
// fields by their labels, and staff's reason.
func rejectedOf(r *rights.CorrectionRequest, t map[string]string) *rejectedRequest {
	labels := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		labels[i] = t["lbl_"+f]
	}
	return &rejectedRequest{Fields: strings.Join(labels, t["details_rejected_sep"]), Reason: r.Reason}
}
