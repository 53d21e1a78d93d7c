package portal

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
)

// optOutView is the opt-out page: per channel, a box per kind of message,
// ticked for what the customer stopped already.
type optOutView struct {
	Channels []optOutChannel
}

type optOutChannel struct {
	Label string
	Kinds []optOutBox
}

type optOutBox struct {
	ID, Value, Label, Hint string
	Checked                bool
}

// handlePortalOptOut shows the channels × kinds the customer can stop.
func (s *Portal) handlePortalOptOut(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	done, err := s.customers.OptOuts(ctx, l.CustomerID)
	if err != nil {
		return err
	}
	for _, ch := range s.optOutChannels() {
		row := optOutChannel{Label: v.T["ch_"+string(ch)]}
		for _, k := range customers.OptOutKinds {
			o := customers.OptOut{Channel: ch, Kind: k}
			row.Kinds = append(row.Kinds, optOutBox{ID: "o-" + string(ch) + "-" + k, Value: optOutValue(o),
				Label: v.T["optout_kind_"+k], Hint: v.T["optout_hint_"+k], Checked: slices.Contains(done, o)})
		}
		v.OptOut.Channels = append(v.OptOut.Channels, row)
	}
	return s.renderPortal(c, http.StatusOK, "optout", v)
}

// handlePortalOptOutSubmit makes the ticked boxes (or, with "all",
// everything that may be stopped) the customer's opt-outs, suppresses the
// unsent deliveries that newly stops at once, and says exactly what is
// stopped now. Repeating it changes nothing.
func (s *Portal) handlePortalOptOutSubmit(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	list, ok := parseOptOuts(form["o"], s.optOutChannels())
	if !ok {
		v.Result = resultView{Warn: true, Title: v.T["problem_title"], Detail: v.T["optout_intro"], Action: v.T["nav_optout"], Href: v.Base + "/optout"}
		return s.renderPortal(c, http.StatusBadRequest, "result", v)
	}
	if form.Get("all") != "" {
		list = nil
		for _, ch := range s.optOutChannels() {
			list = append(list, customers.OptOutsOf(ch, customers.OptOutKinds)...)
		}
	}
	added, err := s.customers.SetOptOuts(ctx, l.CustomerID, list, customers.SourcePortal, "customer:"+l.CustomerID)
	if err != nil {
		return err
	}
	if err := s.suppressOptOuts(ctx, l.CustomerID, added); err != nil {
		return err
	}
	v.Result = resultView{Title: v.T["optout_saved"], Detail: describeOptOuts(v.T, list) + v.T["optout_required"],
		Action: v.T["optout_change"], Href: v.Base + "/optout"}
	return s.renderPortal(c, http.StatusOK, "result", v)
}

// optOutChannels are the channels the opt-out page offers: the devbox
// only where it runs.
func (s *Portal) optOutChannels() []channels.Name {
	if s.devbox != nil {
		return customers.OptOutChannels
	}
	return slices.DeleteFunc(slices.Clone(customers.OptOutChannels), func(ch channels.Name) bool { return ch == channels.Devbox })
}

// optOutValue is a box's form value, "sms:promotional".
func optOutValue(o customers.OptOut) string { return string(o.Channel) + ":" + o.Kind }

// parseOptOuts reads the ticked boxes; a box not on offer fails.
func parseOptOuts(values []string, offered []channels.Name) ([]customers.OptOut, bool) {
	var out []customers.OptOut
	for _, val := range values {
		ch, kind, _ := strings.Cut(val, ":")
		o := customers.OptOut{Channel: channels.Name(ch), Kind: kind}
		if !slices.Contains(offered, o.Channel) || !slices.Contains(customers.OptOutKinds, kind) {
			return nil, false
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, true
}

// describeOptOuts says what is stopped, channel by channel: "已退订：短信的
// 推广消息、满意度调查。", or that everything still comes.
func describeOptOuts(t map[string]string, list []customers.OptOut) string {
	var parts []string
	for _, ch := range customers.OptOutChannels {
		var kinds []string
		for _, o := range list {
			if o.Channel == ch {
				kinds = append(kinds, t["optout_kind_"+o.Kind])
			}
		}
		if len(kinds) > 0 {
			parts = append(parts, t["ch_"+string(ch)]+t["optout_of"]+strings.Join(kinds, t["list_sep"]))
		}
	}
	if len(parts) == 0 {
		return t["optout_none"]
	}
	return t["optout_now"] + strings.Join(parts, t["optout_group_sep"]) + t["optout_end"]
}

func (s *Portal) suppressOptOuts(ctx context.Context, customerID string, list []customers.OptOut) error {
	if s.campaigns == nil || len(list) == 0 {
		return nil
	}
	_, err := s.campaigns.SuppressOptOuts(ctx, customerID, list, campaigns.ReasonCustomerOptedOut)
	return err
}

// handlePortalUnsubscribe is RFC 8058 one-click unsubscribe from email:
// the mail client POSTs List-Unsubscribe=One-Click to the URL in the
// message's List-Unsubscribe header. Like a "退订" reply it stops
// promotional email and surveys (customers.ReplyOptOutKinds); the notices
// the law requires still come, and the answer says so.
func (s *Portal) handlePortalUnsubscribe(c echo.Context) error {
	if c.FormValue("List-Unsubscribe") != "One-Click" {
		return echo.NewHTTPError(http.StatusBadRequest, "Expected List-Unsubscribe=One-Click.")
	}
	ctx, l := c.Request().Context(), portalLinkOf(c)
	list := customers.OptOutsOf(channels.Email, customers.ReplyOptOutKinds)
	added, err := s.customers.AddOptOuts(ctx, l.CustomerID, list, customers.SourcePortal, "customer:"+l.CustomerID)
	if err != nil {
		return err
	}
	if err := s.suppressOptOuts(ctx, l.CustomerID, added); err != nil {
		return err
	}
	return c.String(http.StatusOK, "Unsubscribed from promotional email and surveys. Notices the law requires (a transfer of your data, a security incident) still come.\n")
}
