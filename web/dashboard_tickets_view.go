package web

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/feedback"
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
	Sender  *feedback.BindProposal
	Staff   []*staff.Member
	SLA     string
	Urgency string
	// Options of the working-fields form.
	Statuses, Priorities, Categories []string
}

// messageView is one message with its author's name.
type messageView struct {
	feedback.Message
	Author string
}

// handleTicketPage shows a ticket and its conversation (ViewTicket audits
// the read), the customer masked.
func (s *Server) handleTicketPage(c echo.Context) error {
	return s.ticketPage(c, nil)
}

// handleTicketRevealPage shows the ticket with its customer unmasked for
// the reason given; RevealCustomer audits it. Never redirected to, so a
// reload does not reveal again silently.
func (s *Server) handleTicketRevealPage(c echo.Context) error {
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
func (s *Server) ticketPage(c echo.Context, revealed *customers.Customer) error {
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
		members, err := s.staff.FindMembers(ctx)
		if err != nil {
			return err
		}
		for _, sm := range members {
			if sm.DisabledAt == nil && sm.Role.Can(staff.WriteTickets) {
				v.Staff = append(v.Staff, sm)
			}
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
func (s *Server) handleTicketReplyPage(c echo.Context) error {
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
	if msg.DeliveryStatus == "failed" {
		return backToTicket(c, c.Param("id"), "reply_failed")
	}
	return backToTicket(c, c.Param("id"), "reply_sent")
}

// handleTicketNotePage adds an internal note.
func (s *Server) handleTicketNotePage(c echo.Context) error {
	if _, err := s.tickets.AddNote(c.Request().Context(), c.Param("id"), member(c).ID, c.FormValue("text")); err != nil {
		return err
	}
	return backToTicket(c, c.Param("id"), "note_added")
}

// handleTicketUpdatePage changes the fields the form sent: status,
// priority, category, assignee.
func (s *Server) handleTicketUpdatePage(c echo.Context) error {
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
	u := feedback.Update{Status: field("status"), Priority: field("priority"), Category: field("category"), AssigneeID: field("assignee_id")}
	if _, err := s.tickets.UpdateTicket(c.Request().Context(), c.Param("id"), u, member(c).Actor()); err != nil {
		return err
	}
	if form.Get("next") == "queue" {
		return c.Redirect(http.StatusSeeOther, "/tickets?done=updated")
	}
	return backToTicket(c, c.Param("id"), "updated")
}

// handleTicketMergePage merges this ticket into another and shows that one.
func (s *Server) handleTicketMergePage(c echo.Context) error {
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
func (s *Server) handleTicketLinkPage(c echo.Context) error {
	ctx := c.Request().Context()
	q := strings.TrimSpace(c.FormValue("customer"))
	customerID := q
	if strings.Contains(q, "@") || looksLikePhone(q) {
		f := customers.Filter{Limit: 2, Email: q}
		if looksLikePhone(q) {
			f = customers.Filter{Limit: 2, Phone: q}
		}
		list, _, err := s.customers.FindCustomers(ctx, f)
		if err != nil {
			return err
		}
		if len(list) != 1 {
			return handover.Errorf(handover.EINVALID, "No single customer has this phone number or email address.")
		}
		customerID = list[0].ID
	}
	if customerID == "" {
		return handover.Errorf(handover.EINVALID, "Give the customer's phone number, email address or id.")
	}
	if _, err := s.tickets.LinkCustomer(ctx, c.Param("id"), customerID, member(c).Actor(), c.FormValue("bind") == "1"); err != nil {
		return err
	}
	return backToTicket(c, c.Param("id"), "linked")
}
