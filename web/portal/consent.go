package portal

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/links"
)

// purposeRow is one purpose on the consent pages: its current decision
// and, on the review page, the one chosen.
type purposeRow struct {
	Index   int
	Name    string
	State   string // granted | declined | withdrawn | ""
	Choice  string // grant | decline
	Outcome string // what the review says will happen
}

// resultView is a WeUI result page: an icon, one line, one action.
type resultView struct {
	Warn         bool
	Title        string
	Detail       string
	Action, Href string
}

// handlePortalNotice shows the transfer notice (the link's landing page),
// or the incident page when the link came with an incident notice.
func (s *Portal) handlePortalNotice(c echo.Context) error {
	if done, err := s.portalIncident(c); done {
		return err
	}
	v := s.newPortalView(c)
	if err := s.withTransfer(c.Request().Context(), v, portalLinkOf(c)); err != nil {
		return err
	}
	return s.renderPortal(c, http.StatusOK, "notice", v)
}

// handlePortalConsent shows a choice per purpose, set to the current
// decision; ?saved=1 is the result page after a confirmed submit.
func (s *Portal) handlePortalConsent(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	if err := s.withTransfer(ctx, v, l); err != nil {
		return err
	}
	if c.QueryParam("saved") == "1" {
		v.Result = resultView{Title: v.T["consent_saved"], Detail: v.T["consent_saved_detail"], Action: v.T["back_notice"], Href: v.Base}
		return s.renderPortal(c, http.StatusOK, "result", v)
	}
	state, err := s.customers.ConsentState(ctx, l.CustomerID, l.TransferID)
	if err != nil {
		return err
	}
	for i, p := range l.Purposes {
		row := purposeRow{Index: i, Name: p, State: state[p]}
		if row.State == customers.ConsentGranted {
			row.Choice = "grant"
		} else if row.State != "" {
			row.Choice = "decline"
		}
		v.Purposes = append(v.Purposes, row)
	}
	return s.renderPortal(c, http.StatusOK, "consent", v)
}

// handlePortalConsentSubmit is both steps of the consent form: step
// "review" shows a summary of the choices, step "confirm" records them
// (customers.RecordConsent: ledger, state and audit in one transaction,
// repeats harmless) and redirects to the result page.
func (s *Portal) handlePortalConsentSubmit(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	if err := s.withTransfer(ctx, v, l); err != nil {
		return err
	}
	state, err := s.customers.ConsentState(ctx, l.CustomerID, l.TransferID)
	if err != nil {
		return err
	}
	var decisions []customers.ConsentDecision
	for i, p := range l.Purposes {
		choice := c.FormValue("p" + strconv.Itoa(i))
		if choice != "grant" && choice != "decline" {
			v.Problem = v.T["pick_all"]
			v.Purposes = nil
			for j, q := range l.Purposes {
				v.Purposes = append(v.Purposes, purposeRow{Index: j, Name: q, State: state[q], Choice: c.FormValue("p" + strconv.Itoa(j))})
			}
			return s.renderPortal(c, http.StatusBadRequest, "consent", v)
		}
		row := purposeRow{Index: i, Name: p, State: state[p], Choice: choice, Outcome: v.T["will_grant"]}
		d := decision(state[p], choice)
		switch d {
		case customers.ConsentWithdrawn:
			row.Outcome = v.T["will_withdraw"]
		case customers.ConsentDeclined, "":
			row.Outcome = v.T["will_decline"]
		}
		v.Purposes = append(v.Purposes, row)
		if d != "" {
			decisions = append(decisions, s.consentDecision(c, l, p, d, v.Notice.Hash))
		}
	}
	if c.FormValue("step") != "confirm" {
		return s.renderPortal(c, http.StatusOK, "review", v)
	}
	if _, err := s.customers.RecordConsent(ctx, decisions); err != nil {
		return err
	}
	// Messages that need the consent just withdrawn (or declined) stop at
	// once; a repeat submit suppresses nothing more.
	for _, d := range decisions {
		if d.Decision != customers.ConsentGranted && s.campaigns != nil {
			if _, err := s.campaigns.SuppressConsent(ctx, l.CustomerID, l.TransferID, d.Purpose); err != nil {
				return err
			}
		}
	}
	return c.Redirect(http.StatusSeeOther, v.Base+"/consent?saved=1")
}

// decision turns a choice into what to record against the current state:
// declining what was granted withdraws it (Art. 15); declining again what
// was declined or withdrawn records nothing.
func decision(current, choice string) string {
	switch {
	case choice == "grant":
		return customers.ConsentGranted
	case current == customers.ConsentGranted:
		return customers.ConsentWithdrawn
	case current == "":
		return customers.ConsentDeclined
	}
	return ""
}

func (s *Portal) consentDecision(c echo.Context, l *links.Link, purpose, d, noticeHash string) customers.ConsentDecision {
	ua := c.Request().UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return customers.ConsentDecision{CustomerID: l.CustomerID, TransferID: l.TransferID, Purpose: purpose, Decision: d,
		Source: customers.SourcePortal, NoticeHash: noticeHash, LinkID: l.ID, IP: c.RealIP(), UserAgent: ua,
		Actor: "customer:" + l.CustomerID}
}
