package dashboard

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
)

// ticketView is the ticket page: the conversation, the customer panel and
// the forms that work the ticket.
type ticketView struct {
	Ticket   *feedback.Ticket
	Customer *customers.Customer // masked unless Revealed; nil while unmatched
	Revealed bool
	Messages []messageView
	Canned   []feedback.CannedReply
	Choice   *feedback.ChannelChoice
	// Sender is an unmatched ticket's sender address, masked: where a
	// reply goes and what linking may bind. nil when none was kept.
	Sender *feedback.BindProposal
	Staff  []*staff.Member
	// Panel is the customer's consent, opt-outs, corrections and recent
	// campaign messages; nil while unmatched or for a role that may not
	// read customers.
	Panel *customerPanel
	// AssigneeName is who works the ticket ("" when nobody).
	AssigneeName string
	SLA          string
	Urgency      string
	// Options of the working-fields form.
	Statuses               []feedback.Status
	Priorities, Categories []string
}

// messageView is one message with its author's name.
type messageView struct {
	feedback.Message
	Author string
}

// handleTicketPage shows a ticket and its conversation (ViewTicket audits
// the read), the customer masked.
func (s *Dashboard) handleTicketPage(c echo.Context) error {
	return s.ticketPage(c, nil)
}

// handleTicketRevealPage shows the ticket with its customer unmasked for
// the reason given; RevealCustomer audits it. Never redirected to, so a
// reload does not reveal again silently.
func (s *Dashboard) handleTicketRevealPage(c echo.Context) error {
	t, err := s.tickets.FindTicketByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if t.CustomerID == "" {
		return handover.Errorf(handover.EINVALID, "This ticket is not linked to a customer.")
	}
	cu, err := s.customers.RevealCustomer(c.Request().Context(), t.CustomerID, member(c).Actor(), c.FormValue("reason"))
	if err != nil {
		return err
	}
	return s.ticketPage(c, cu)
}

// ticketPage renders the ticket; revealed is the customer unmasked, or nil
// to show them masked.
func (s *Dashboard) ticketPage(c echo.Context, revealed *customers.Customer) error {
	ctx := c.Request().Context()
	m := member(c)
	t, err := s.tickets.ViewTicket(ctx, c.Param("id"), m.Actor())
	if err != nil {
		return err
	}
	v := ticketView{Ticket: t, Revealed: revealed != nil, Statuses: ticketStatuses, Priorities: ticketPriorities, Categories: ticketCategories}
	if !slices.Contains(v.Categories, t.Category) {
		v.Categories = append([]string{t.Category}, v.Categories...)
	}
	v.SLA, v.Urgency = slaCountdown(m.Locale, time.Now(), t)
	switch {
	case revealed != nil:
		v.Customer = revealed
	case t.CustomerID != "":
		cu, err := s.customers.FindCustomerByID(ctx, t.CustomerID)
		if err != nil {
			return err
		}
		masked := cu.Masked()
		v.Customer = &masked
	}
	names, err := s.staffNames(ctx)
	if err != nil {
		return err
	}
	v.AssigneeName = names[t.AssigneeID]
	for _, msg := range t.Messages {
		v.Messages = append(v.Messages, messageView{Message: msg, Author: names[msg.AuthorID]})
	}
	if m.Role.Can(staff.WriteTickets) && t.Status != feedback.StatusMerged {
		if v.Canned, err = s.tickets.FindCannedReplies(ctx); err != nil {
			return err
		}
		if v.Choice, err = s.tickets.SuggestChannel(ctx, t.ID); err != nil {
			return err
		}
		if t.Unmatched {
			if v.Sender, err = s.tickets.ProposeBinding(ctx, t.ID, ""); err != nil {
				return err
			}
		}
		if v.Staff, err = s.ticketStaff(ctx); err != nil {
			return err
		}
	}
	if t.CustomerID != "" && m.Role.Can(staff.ReadCustomers) {
		if v.Panel, err = s.customerPanelOf(c, t); err != nil {
			return err
		}
	}
	p := &page{Title: "nav.tickets", Nav: "tickets", Flash: c.QueryParam("done"), Data: v}
	return s.render(c, http.StatusOK, "ticket", p)
}

// backToTicket answers a ticket form: the ticket page with a flash.
func backToTicket(c echo.Context, id, done string) error {
	return c.Redirect(http.StatusSeeOther, "/tickets/"+id+"?done="+done)
}

// handleTicketReplyPage sends a reply: the text typed, or a canned reply's
// body when the text is empty. Variables are filled when it is sent.
func (s *Dashboard) handleTicketReplyPage(c echo.Context) error {
	ctx := c.Request().Context()
	text := strings.TrimSpace(c.FormValue("text"))
	if id := c.FormValue("canned_id"); text == "" && id != "" {
		cr, err := s.tickets.FindCannedReplyByID(ctx, id)
		if err != nil {
			return err
		}
		text = cr.Body
	}
	msg, err := s.tickets.Reply(ctx, c.Param("id"), member(c).ID, text, channels.Name(c.FormValue("channel")))
	if err != nil {
		return err
	}
	if msg.DeliveryStatus == channels.StatusFailed {
		return backToTicket(c, c.Param("id"), "reply_failed")
	}
	return backToTicket(c, c.Param("id"), "reply_sent")
}

// handleTicketNotePage adds an internal note.
func (s *Dashboard) handleTicketNotePage(c echo.Context) error {
	if _, err := s.tickets.AddNote(c.Request().Context(), c.Param("id"), member(c).ID, c.FormValue("text")); err != nil {
		return err
	}
	return backToTicket(c, c.Param("id"), "note_added")
}

// handleTicketUpdatePage changes the fields the form sent: status,
// priority, category, assignee.
func (s *Dashboard) handleTicketUpdatePage(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return handover.Errorf(handover.EINVALID, "The form could not be read.")
	}
	field := func(name string) *string {
		if _, ok := form[name]; !ok {
			return nil
		}
		v := form.Get(name)
		return &v
	}
	u := feedback.Update{Status: (*feedback.Status)(field("status")), Priority: field("priority"), Category: field("category"), AssigneeID: field("assignee_id")}
	if _, err := s.tickets.UpdateTicket(c.Request().Context(), c.Param("id"), u, member(c).Actor()); err != nil {
		return err
	}
	if form.Get("next") == "queue" {
		return c.Redirect(http.StatusSeeOther, "/tickets?done=updated")
	}
	return backToTicket(c, c.Param("id"), "updated")
}

// handleTicketMergePage merges this ticket into another and shows that one.
func (s *Dashboard) handleTicketMergePage(c echo.Context) error {
	into := strings.TrimSpace(c.FormValue("into"))
	if into == "" {
		return handover.Errorf(handover.EINVALID, "Give the number of the ticket to merge this one into.")
	}
	t, err := s.tickets.Merge(c.Request().Context(), c.Param("id"), into, member(c).Actor())
	if err != nil {
		return err
	}
	return backToTicket(c, t.ID, "merged")
}

// handleTicketLinkPage ties an unmatched ticket to the customer staff
// recognised, named by exact phone, email or customer id.
func (s *Dashboard) handleTicketLinkPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.FormValue("customer"))
	customerID, err := s.exactCustomer(ctx, q)
	if err != nil {
		return err
	}
	if customerID == "" {
		return handover.Errorf(handover.EINVALID, "Give the customer's phone number, email address or id.")
	}
	if _, err := s.tickets.LinkCustomer(ctx, c.Param("id"), customerID, member(c).Actor(), c.FormValue("bind") == "1"); err != nil {
		return err
	}
	return backToTicket(c, c.Param("id"), "linked")
}

// customerPanel is what the ticket page shows of its customer beside the
// conversation, nothing unmasked: the current decision per purpose, the
// opt-outs, the correction requests (fields and outcome, not values) and
// the latest campaign messages with whether the customer opened them.
type customerPanel struct {
	Consent     []customers.ConsentEvent // the latest decision per transfer and purpose
	OptOuts     []customers.OptOut
	Corrections []*rights.CorrectionRequest // newest first, at most panelRows, values cleared
	Messages    []panelMessage              // newest first, at most panelRows
}

type panelMessage struct {
	campaigns.CustomerDelivery
	Opened *time.Time
}

// panelRows is how many corrections and messages the panel lists.
const panelRows = 5

// customerPanelOf gathers the ticket customer's panel and audits that the
// member saw it (customer.panel).
func (s *Dashboard) customerPanelOf(c echo.Context, t *feedback.Ticket) (*customerPanel, error) {
	ctx := c.Request().Context()
	p := &customerPanel{}
	history, err := s.customers.ConsentHistory(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	latest := map[string]int{}
	for _, ev := range history {
		ev.IP, ev.UserAgent = "", ""
		key := ev.TransferID + "\x00" + ev.Purpose
		if i, ok := latest[key]; ok {
			p.Consent[i] = ev
			continue
		}
		latest[key] = len(p.Consent)
		p.Consent = append(p.Consent, ev)
	}
	if p.OptOuts, err = s.customers.OptOuts(ctx, t.CustomerID); err != nil {
		return nil, err
	}
	list, err := s.rights.CustomerCorrections(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	for i := len(list) - 1; i >= 0 && len(p.Corrections) < panelRows; i-- {
		r := *list[i]
		r.Current, r.Proposed = rights.CorrectionFields{}, rights.CorrectionFields{}
		p.Corrections = append(p.Corrections, &r)
	}
	deliveries, err := s.campaigns.FindCustomerDeliveries(ctx, t.CustomerID, panelRows)
	if err != nil {
		return nil, err
	}
	opened, err := s.links.OpenedCampaigns(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	for _, d := range deliveries {
		pm := panelMessage{CustomerDelivery: d}
		if at, ok := opened[d.CampaignID]; ok {
			pm.Opened = &at
		}
		p.Messages = append(p.Messages, pm)
	}
	err = s.recordAccess(c, "customer.panel", "customer", t.CustomerID, fmt.Sprintf("ticket=%s consent=%d optouts=%d corrections=%d messages=%d",
		t.ID, len(p.Consent), len(p.OptOuts), len(p.Corrections), len(p.Messages)))
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Channel is a channel's name in the page's language.
func (p *page) Channel(name any) string { return channelLabel(p.locale, fmt.Sprint(name)) }
