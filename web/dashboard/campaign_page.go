package dashboard

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/staff"
)

// registerMarketerPages registers the campaign pages beyond the list and
// the state buttons: edit, cancel confirmation, export, send again.
func (s *Dashboard) registerMarketerPages() {
	s.pageRoute(http.MethodGet, "/campaigns/:id/edit", s.handleCampaignEditPage, staff.WriteCampaigns)
	s.pageRoute(http.MethodPost, "/campaigns/:id/edit", s.handleCampaignUpdatePage, staff.WriteCampaigns)
	s.pageRoute(http.MethodGet, "/campaigns/:id/cancel", s.handleCampaignCancelConfirm, staff.WriteCampaigns)
	s.pageRoute(http.MethodGet, "/campaigns/:id/deliveries.csv", s.handleCampaignExport, staff.ReadCampaigns)
	s.pageRoute(http.MethodPost, "/campaigns/:id/again", s.handleCampaignAgain, staff.WriteCampaigns)
	s.pageRoute(http.MethodPost, "/campaigns/:id/test-send", s.handleCampaignTestSendPage, staff.WriteCampaigns)
}

// handleCampaignTestSendPage sends the campaign's message once to the
// member's own email (or the devbox), as the API's test-send does.
func (s *Dashboard) handleCampaignTestSendPage(c echo.Context) error {
	m := member(c)
	if _, err := s.campaigns.TestSend(c.Request().Context(), c.Param("id"), channels.Address{Email: m.Email}, m.Name, m.Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/campaigns/"+c.Param("id")+"?done=mk_test_sent")
}

// homePath is where a member lands after sign-in: the role's daily page.
func homePath(r staff.Role) string {
	if r == staff.Marketer {
		return "/campaigns"
	}
	return "/tickets"
}

// numbers are a campaign's counts, all read from its delivery rows in one
// GROUP BY (campaigns.Service.Stats) and its links: the bar, the funnel
// and the per-channel block show these and nothing else, so they agree.
//
//   - Total: every recipient the campaign planned, skipped ones included.
//   - Waiting: planned or queued, not yet handed to a provider.
//   - Done: Total - Waiting (sent, failed, skipped or suppressed).
//   - Sent: handed to a provider (sent, delivered or bounced).
//   - Delivered, Failed, Bounced: the rows' outcomes.
//   - NotSent: skipped at planning or suppressed before sending.
//   - Opened, Consented: personal links opened, consent granted from.
type numbers struct {
	Total, Waiting, Done, Sent, Delivered, Failed, Bounced, NotSent, Opened, Consented int
}

func countNumbers(by map[channels.DeliveryStatus]int, f campaigns.Funnel) numbers {
	n := numbers{Waiting: by[channels.StatusPlanned] + by[channels.StatusQueued], Sent: by[channels.StatusSent] + by[channels.StatusDelivered] + by[channels.StatusBounced],
		Delivered: by[channels.StatusDelivered], Failed: by[channels.StatusFailed], Bounced: by[channels.StatusBounced], NotSent: by[channels.StatusSkipped] + by[channels.StatusSuppressed],
		Opened: f.Opened, Consented: f.Consented}
	for _, c := range by {
		n.Total += c
	}
	n.Done = n.Total - n.Waiting
	return n
}

// fields are the numbers by name, as the page marks them (data-n) for the
// poll to update.
func (n numbers) fields(prefix string, into map[string]int) {
	for k, v := range map[string]int{"total": n.Total, "waiting": n.Waiting, "done": n.Done, "sent": n.Sent, "delivered": n.Delivered,
		"failed": n.Failed, "bounced": n.Bounced, "not_sent": n.NotSent, "opened": n.Opened, "consented": n.Consented} {
		into[prefix+k] = v
	}
}

// campaignNumbers is the campaign page's data and the poll's answer.
type campaignNumbers struct {
	progress
	Numbers numbers `json:"-"`
	// ByChannel in the campaign's channel order.
	ByChannel []channelNumbers             `json:"-"`
	Skipped   map[campaigns.SkipReason]int `json:"-"`
	// Fields are the numbers by name (numbers.fields), for the poll.
	Fields map[string]int `json:"fields"`
}

type channelNumbers struct {
	Channel string
	numbers
}

// campaignNumbersOf reads a campaign's numbers, its pace and its ETA.
func (s *Dashboard) campaignNumbersOf(ctx context.Context, cp *campaigns.Campaign) (*campaignNumbers, error) {
	st, err := s.campaigns.Stats(ctx, cp.ID)
	if err != nil {
		return nil, err
	}
	n := countNumbers(st.ByStatus, st.Funnel)
	pace, err := s.campaigns.Pace(ctx, cp, n.Waiting)
	if err != nil {
		return nil, err
	}
	v := &campaignNumbers{Numbers: n, Skipped: st.SkippedByReason}
	v.progress = progress{State: cp.Status.String(), Total: n.Total, Done: n.Done, Percent: percent(n.Done, n.Total), Counts: st.ByStatus,
		Live: cp.Status == campaigns.StatusRunning || cp.Status == campaigns.StatusScheduled}.withPace(pace)
	v.Fields = map[string]int{}
	n.fields("", v.Fields)
	for _, ch := range cp.Channels {
		cn := channelNumbers{Channel: string(ch), numbers: countNumbers(st.ByChannel[string(ch)], st.FunnelByChannel[string(ch)])}
		cn.fields(string(ch)+".", v.Fields)
		v.ByChannel = append(v.ByChannel, cn)
	}
	return v, nil
}

// loadCampaignNumbers loads the campaign named in the path and its numbers.
func (s *Dashboard) loadCampaignNumbers(c echo.Context) (*campaigns.Campaign, *campaignNumbers, error) {
	cp, err := s.campaigns.FindCampaignByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	nums, err := s.campaignNumbersOf(c.Request().Context(), cp)
	return cp, nums, err
}

// campaignView is a campaign page.
type campaignView struct {
	Campaign *campaigns.Campaign
	*campaignNumbers
	Funnel []funnelStep
	Chart  *timeChart
	Health campaigns.Health
	// Zone names the time zone dates are shown in.
	Zone string
}

// AudienceList reports whether the campaign's audience is an explicit list.
func (v campaignView) AudienceList() bool { return v.Campaign.Audience.CustomerIDs != nil }

type funnelStep struct {
	Label   string
	Field   string
	Count   int
	Width   int
	Percent int
}

func (s *Dashboard) handleCampaignPage(c echo.Context) error {
	ctx := c.Request().Context()
	cp, nums, err := s.loadCampaignNumbers(c)
	if err != nil {
		return err
	}
	zone := loadZone(member(c).TimeZone)
	v := campaignView{Campaign: cp, campaignNumbers: nums, Zone: zone.String()}
	n := nums.Numbers
	for _, st := range []struct {
		label, field string
		count        int
	}{{"mk.step_total", "total", n.Total}, {"funnel.sent", "sent", n.Sent}, {"funnel.delivered", "delivered", n.Delivered},
		{"funnel.opened", "opened", n.Opened}, {"funnel.consented", "consented", n.Consented}} {
		v.Funnel = append(v.Funnel, funnelStep{Label: st.label, Field: st.field, Count: st.count, Width: scale(st.count, n.Total, 300),
			Percent: percent(st.count, n.Total)})
	}
	tl, err := s.campaigns.Timeline(ctx, cp.ID)
	if err != nil {
		return err
	}
	v.Chart = newTimeChart(tl, zone, member(c).Locale)
	if v.Health, err = s.campaigns.Health(ctx, cp); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "campaign", &page{Title: "nav.campaigns", Nav: "campaigns", Flash: c.QueryParam("done"), Data: v})
}

// scale maps n of max onto width pixels, at least 1 for any n > 0.
func scale(n, max, width int) int {
	if max <= 0 || n <= 0 {
		return 0
	}
	return min(width, maxOf(1, n*width/max))
}

func maxOf(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// timeChart is the campaign's timeline drawn as SVG polylines.
type timeChart struct {
	Width, Height int
	Series        []chartSeries
	From, To      string // the first and last bucket, in the member's zone
	Max           int
	Empty         bool
}

type chartSeries struct {
	Name   string // sent | delivered | opened | consented
	Points string // x,y pairs
	Total  int
}

func newTimeChart(tl *campaigns.Timeline, zone *time.Location, locale string) *timeChart {
	ch := &timeChart{Width: 600, Height: 160}
	all := [][]int{tl.Sent, tl.Delivered, tl.Opened, tl.Consented}
	buckets := len(tl.Sent)
	if buckets == 0 {
		ch.Empty = true
		return ch
	}
	for _, s := range all {
		for _, n := range s {
			ch.Max = maxOf(ch.Max, n)
		}
	}
	ch.Max = maxOf(ch.Max, 1)
	for i, s := range all {
		cs := chartSeries{Name: campaigns.TimelineSeries[i]}
		var pts []string
		for j, n := range s {
			x := 0
			if buckets > 1 {
				x = j * ch.Width / (buckets - 1)
			}
			y := ch.Height - n*(ch.Height-4)/ch.Max - 2
			pts = append(pts, fmt.Sprintf("%d,%d", x, y))
			cs.Total += n
		}
		if buckets == 1 {
			pts = append(pts, fmt.Sprintf("%d,%s", ch.Width, strings.Split(pts[0], ",")[1]))
		}
		cs.Points = strings.Join(pts, " ")
		ch.Series = append(ch.Series, cs)
	}
	ch.From = tl.Start.In(zone).Format("2006-01-02 15:04")
	ch.To = tl.Start.Add(time.Duration(buckets) * tl.Step).In(zone).Format("2006-01-02 15:04")
	return ch
}

// handleCampaignCancelConfirm asks before a campaign is cancelled: a page
// of its own, so it works without script.
func (s *Dashboard) handleCampaignCancelConfirm(c echo.Context) error {
	cp, nums, err := s.loadCampaignNumbers(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "campaign_cancel", &page{Title: "campaign.cancel", Nav: "campaigns",
		Data: campaignView{Campaign: cp, campaignNumbers: nums}})
}

// handleCampaignAgain creates a draft that sends the campaign again to
// those of its recipients who did not open it (step=not_opened) or did
// not decide (step=not_decided), and opens it in the edit form.
func (s *Dashboard) handleCampaignAgain(c echo.Context) error {
	ctx := c.Request().Context()
	locale := member(c).Locale
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	step := c.FormValue("step")
	ids, err := s.campaigns.FollowUp(ctx, cp.ID, step)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return pageError(handover.EINVALID, "mk.again_nobody")
	}
	again := &campaigns.Campaign{Name: cp.Name + " · " + translate(locale, "mk.again_"+step), TransferID: cp.TransferID, Kind: cp.Kind,
		Channels: cp.Channels, Templates: cp.Templates, Purpose: cp.Purpose, TimeZone: cp.TimeZone, Quiet: cp.Quiet, Rates: cp.Rates,
		Audience: campaigns.Audience{CustomerIDs: ids}}
	if len([]rune(again.Name)) > 200 {
		again.Name = string([]rune(again.Name)[:200])
	}
	if err := s.campaigns.Create(ctx, again, member(c).Actor()); err != nil {
		return err
	}
	ps, err := s.campaigns.PortalSettingsOf(ctx, cp.ID)
	if err != nil {
		return err
	}
	if _, err := s.campaigns.SetPortalSettings(ctx, again.ID, ps, member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/campaigns/"+again.ID+"/edit")
}

// handleCampaignExport writes the campaign's deliveries as CSV: the
// contact masked as staff see it, cells made safe from spreadsheet
// formulas, statuses and reasons in the member's language. The export is
// audited.
func (s *Dashboard) handleCampaignExport(c echo.Context) error {
	ctx := c.Request().Context()
	locale := member(c).Locale
	zone := loadZone(member(c).TimeZone)
	cp, err := s.campaigns.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.recordAccess(c, "campaign.export", "campaign", cp.ID, "deliveries.csv"); err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="campaign-`+cp.ID+`-deliveries.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := c.Response().Writer
	if _, err := w.Write([]byte("\ufeff")); err != nil { // Excel reads UTF-8 with it
		return nil
	}
	cw := csv.NewWriter(w)
	head := []string{"mk.csv_delivery", "mk.csv_customer", "mk.csv_name", "mk.csv_contact", "col.channel", "mk.csv_status",
		"mk.csv_reason", "mk.csv_sent_at", "mk.csv_error"}
	for i, k := range head {
		head[i] = translate(locale, k)
	}
	_ = cw.Write(head)
	cursor := ""
	for {
		list, next, err := s.campaigns.FindDeliveries(ctx, campaigns.DeliveryFilter{CampaignID: cp.ID, Cursor: cursor, Limit: 500})
		if err != nil {
			s.log.Error("campaign export", "campaign", cp.ID, "err", err)
			break
		}
		ids := make([]string, len(list))
		for i, d := range list {
			ids[i] = d.CustomerID
		}
		people, err := s.customers.FindCustomersByIDs(ctx, ids)
		if err != nil {
			s.log.Error("campaign export", "campaign", cp.ID, "err", err)
			break
		}
		for _, d := range list {
			name, contact := "", ""
			if cu := people[d.CustomerID]; cu != nil {
				name, contact = pii.MaskName(cu.Name), maskedContact(cu, channels.Name(d.Channel))
			}
			sent, reason, chName := "", "", ""
			if d.SentAt != nil {
				sent = d.SentAt.In(zone).Format("2006-01-02 15:04:05")
			}
			if d.SkipReason != "" {
				reason = translate(locale, d.SkipReason.Key())
			}
			if d.Channel != "" {
				chName = translate(locale, channels.Name(d.Channel).Key())
			}
			row := []string{d.ID, d.CustomerID, name, contact, chName, translate(locale, d.Status.Key()), reason, sent, d.Error}
			for i := range row {
				row[i] = formulaSafe(row[i])
			}
			if err := cw.Write(row); err != nil {
				return nil // the client went away
			}
		}
		cw.Flush()
		if next == "" {
			break
		}
		cursor = next
	}
	cw.Flush()
	return nil
}

// maskedContact is the address a delivery went to (or the customer's
// first, when it has no channel), masked.
func maskedContact(cu *customers.Customer, ch channels.Name) string {
	switch {
	case ch == channels.SMS && cu.Phone != "":
		return pii.MaskPhone(cu.Phone)
	case ch == channels.Email && cu.Email != "":
		return pii.MaskEmail(cu.Email)
	case ch == channels.WeChat && cu.WeChatOpenID != "":
		return pii.MaskText(cu.WeChatOpenID)
	case cu.Phone != "":
		return pii.MaskPhone(cu.Phone)
	case cu.Email != "":
		return pii.MaskEmail(cu.Email)
	}
	return ""
}

// formulaSafe keeps a spreadsheet from running a cell as a formula: a
// cell starting with = + - @ tab or CR gets a leading apostrophe.
func formulaSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
