package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/links"
)

// optOutView lists the choices and what the customer opted out of already.
type optOutView struct {
	Channels []optOutChoice
	Done     string // channels already opted out of, in words
}

type optOutChoice struct{ Value, Label string }

var optOutChannels = []channels.Name{channels.SMS, channels.Email, channels.WeChat}

// handlePortalOptOut shows the opt-out choices (all, or one channel).
func (s *Server) handlePortalOptOut(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	cu, err := s.customers.FindCustomerByID(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	done, err := s.customers.ChannelOptOuts(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	var words []string
	if cu.Status == customers.StatusOptedOut {
		words = []string{v.T["optout_all"]}
	}
	for _, ch := range done {
		words = append(words, v.T["ch_"+ch])
	}
	v.OptOut.Done = strings.Join(words, v.T["list_sep"])
	v.OptOut.Channels = []optOutChoice{{"all", v.T["optout_all"]}}
	for _, ch := range optOutChannels {
		v.OptOut.Channels = append(v.OptOut.Channels, optOutChoice{string(ch), v.T["ch_"+string(ch)]})
	}
	return s.renderPortal(c, http.StatusOK, "optout", v)
}

// handlePortalOptOutSubmit opts the customer out of everything or of one
// channel, and suppresses the unsent deliveries that covers at once.
// Repeating it changes nothing.
func (s *Server) handlePortalOptOutSubmit(c echo.Context) error {
	l := portalLinkOf(c)
	v := s.newPortalView(c)
	scope := c.FormValue("scope")
	if scope != "all" && !isOptOutChannel(scope) {
		v.Result = resultView{Warn: true, Title: v.T["problem_title"], Detail: v.T["optout_intro"], Action: v.T["nav_optout"], Href: v.Base + "/optout"}
		return s.renderPortal(c, http.StatusBadRequest, "result", v)
	}
	if err := s.optOut(c, l, scope); err != nil {
		return err
	}
	title := v.T["optout_done_one"]
	if scope == "all" {
		title = v.T["optout_done_all"]
	}
	if err := s.withTransfer(c.Request().Context(), v, l); err != nil {
		return err
	}
	contact := s.cfg.CompanyContact
	if contact == "" {
		contact = v.Transfer.BuyerContact
	}
	v.Result = resultView{Title: title, Detail: v.T["optout_done_detail"] + contact, Action: v.T["back_notice"], Href: v.Base}
	return s.renderPortal(c, http.StatusOK, "result", v)
}

func isOptOutChannel(s string) bool {
	for _, ch := range optOutChannels {
		if string(ch) == s {
			return true
		}
	}
	return false
}

func (s *Server) optOut(c echo.Context, l *links.Link, scope string) error {
	ctx, actor := c.Request().Context(), "customer:"+l.CustomerID
	if scope == "all" {
		if _, err := s.customers.OptOut(ctx, l.CustomerID, actor); err != nil {
			return err
		}
		if s.campaigns != nil {
			_, err := s.campaigns.SuppressCustomer(ctx, l.CustomerID, campaigns.ReasonCustomerOptedOut)
			return err
		}
		return nil
	}
	if _, err := s.customers.OptOutChannel(ctx, l.CustomerID, scope, customers.SourcePortal, actor); err != nil {
		return err
	}
	if s.campaigns != nil {
		_, err := s.campaigns.SuppressCustomerChannel(ctx, l.CustomerID, channels.Name(scope), campaigns.ReasonCustomerOptedOut)
		return err
	}
	return nil
}

// handlePortalUnsubscribe is RFC 8058 one-click unsubscribe from email:
// the mail client POSTs List-Unsubscribe=One-Click to the URL in the
// message's List-Unsubscribe header. It opts the customer out of email.
func (s *Server) handlePortalUnsubscribe(c echo.Context) error {
	if c.FormValue("List-Unsubscribe") != "One-Click" {
		return echo.NewHTTPError(http.StatusBadRequest, "Expected List-Unsubscribe=One-Click.")
	}
	if err := s.optOut(c, portalLinkOf(c), string(channels.Email)); err != nil {
		return err
	}
	return c.String(http.StatusOK, "Unsubscribed.\n")
}
