package dashboard

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/public"
)

// registerIncidentPages: auditors and admins read incidents and their
// report; admins record them, add to the timeline and draft the notice.
func (s *Dashboard) registerIncidentPages() {
	s.pageRoute(http.MethodGet, "/incidents", s.handleIncidentsPage, staff.ReadAudit)
	s.pageRoute(http.MethodGet, "/incidents/new", s.handleIncidentNewPage, staff.ManageIncidents)
	s.pageRoute(http.MethodPost, "/incidents", s.handleIncidentRecordPage, staff.ManageIncidents)
	s.pageRoute(http.MethodGet, "/incidents/:id", s.handleIncidentPage, staff.ReadAudit)
	s.pageRoute(http.MethodPost, "/incidents/:id/events", s.handleIncidentEventPage, staff.ManageIncidents)
	s.pageRoute(http.MethodPost, "/incidents/:id/notice", s.handleIncidentNoticePage, staff.ManageIncidents)
	s.pageRoute(http.MethodGet, "/incidents/:id/report", s.handleIncidentReportPage, staff.ReadAudit)
}

// incidentsPerPage is how many incidents the list shows at a time.
const incidentsPerPage = 50

type incidentsView struct {
	Incidents []*incidents.Incident
	Next      string // the next page's cursor, "" on the last
}

func (s *Dashboard) handleIncidentsPage(c echo.Context) error {
	list, next, err := s.incidents.FindIncidents(c.Request().Context(), c.QueryParam("cursor"), incidentsPerPage)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "incidents", &page{Title: "incident.list", Nav: "compliance", Flash: c.QueryParam("done"),
		Data: incidentsView{Incidents: list, Next: next}})
}

// incidentForm is the record form's values, kept when it is shown again.
type incidentForm struct {
	Title, Cause, Measures, Contact string
	Categories                      []string
	OccurredAt, DiscoveredAt        string // datetime-local, the member's zone
	Customers                       string // ids or phone numbers, one a line
}

type incidentFormView struct {
	Form       incidentForm
	Categories []string
	Error      string
}

func (s *Dashboard) incidentForm(c echo.Context, status int, v incidentFormView) error {
	v.Categories = transfers.DataCategories
	return s.render(c, status, "incident_new", &page{Title: "incident.new", Nav: "compliance", Data: v})
}

func (s *Dashboard) handleIncidentNewPage(c echo.Context) error {
	now := time.Now().In(loadZone(member(c).TimeZone)).Format(localMinute)
	return s.incidentForm(c, http.StatusOK, incidentFormView{Form: incidentForm{OccurredAt: now, DiscoveredAt: now}})
}

// localMinute is the layout of an <input type="datetime-local">.
const localMinute = "2006-01-02T15:04"

// handleIncidentRecordPage records an incident: the form's times are in
// the member's zone; the affected customers are named by id or phone
// number, one a line.
func (s *Dashboard) handleIncidentRecordPage(c echo.Context) error {
	ctx, m := c.Request().Context(), member(c)
	form, _ := c.FormParams()
	f := incidentForm{Title: c.FormValue("title"), Cause: c.FormValue("cause"), Measures: c.FormValue("measures"),
		Contact: c.FormValue("contact"), Categories: form["data_categories"], OccurredAt: c.FormValue("occurred_at"),
		DiscoveredAt: c.FormValue("discovered_at"), Customers: c.FormValue("customers")}
	fail := func(status int, msg string) error {
		return s.incidentForm(c, status, incidentFormView{Form: f, Error: msg})
	}
	zone := loadZone(m.TimeZone)
	occurred, err1 := time.ParseInLocation(localMinute, f.OccurredAt, zone)
	discovered, err2 := time.ParseInLocation(localMinute, f.DiscoveredAt, zone)
	if err1 != nil || err2 != nil {
		return fail(http.StatusBadRequest, formText(c, "cerr.incident_dates"))
	}
	ids, bad, err := s.affectedCustomers(c, f.Customers)
	if err != nil {
		return err
	}
	if bad != "" {
		return fail(http.StatusBadRequest, formText(c, "cerr.customer_unknown")+" "+bad)
	}
	in := &incidents.Incident{Title: f.Title, DataCategories: f.Categories, Cause: f.Cause, Measures: f.Measures, Contact: f.Contact,
		OccurredAt: occurred, DiscoveredAt: discovered}
	if err := s.incidents.Record(ctx, in, ids, m.Actor()); err != nil {
		return formFailed(c, err, fail)
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+in.ID+"?done=incident_recorded")
}

// affectedCustomers resolves the form's lines (a customer id, or a phone
// number found through the blind index) to customer ids; bad is the first
// line that names no customer. Phone look-ups are audited, as a search is.
func (s *Dashboard) affectedCustomers(c echo.Context, text string) (ids []string, bad string, err error) {
	phones := 0
	for _, line := range customerLines(text) {
		if _, perr := ulid.ParseStrict(line); perr == nil {
			ids = append(ids, line)
			continue
		}
		list, _, ferr := s.customers.FindCustomers(c.Request().Context(), customers.Filter{Phone: line, Limit: 2})
		if ferr != nil && handover.ErrorCode(ferr) == handover.EINTERNAL {
			return nil, "", ferr
		}
		if len(list) == 0 {
			return nil, line, nil
		}
		phones++
		for _, cu := range list {
			ids = append(ids, cu.ID)
		}
	}
	if phones > 0 {
		if err := s.recordAccess(c, "incident.customers_lookup", "customer", "", "phones="+strconv.Itoa(phones)); err != nil {
			return nil, "", err
		}
	}
	return ids, "", nil
}

// timelineRow is a timeline entry as shown: the entries the domain
// writes itself (recorded, notice drafted, a status) by a message key,
// what staff wrote as written.
// customerLines splits the form's list of customers: one a line, or
// separated by commas (Chinese or Latin), trimmed, blanks dropped.
func customerLines(text string) []string {
	var out []string
	for _, line := range strings.FieldsFunc(text, func(r rune) bool { return r == '\n' || r == ',' || r == '，' }) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

type timelineRow struct {
	incidents.Event
	NoteKey string
}

type incidentPageView struct {
	Incident  *incidents.Incident
	Campaign  *campaigns.Campaign
	Unreached []incidents.Unreached
	// ReachUnknown: the campaign can no longer be previewed.
	ReachUnknown bool
	Transfers    []*transfers.Transfer
	Channels     []channels.Name
	Timeline     []timelineRow
	Names        map[string]string
	// Form: the notice form's or the timeline form's error.
	NoticeError, EventError string
}

func (s *Dashboard) incidentPage(c echo.Context, status int, v incidentPageView) error {
	ctx := c.Request().Context()
	in, err := s.incidents.FindIncidentByID(ctx, c.Param("id"))
	if err != nil {
		return err
	}
	v.Incident = in
	for _, e := range in.Timeline {
		row := timelineRow{Event: e}
		switch {
		case e.Kind == "recorded":
			row.NoteKey = "incident.event_recorded"
		case e.Kind == "notice" && strings.HasPrefix(e.Note, "notice campaign "):
			row.NoteKey = "incident.event_notice_drafted"
		case e.Kind == "status":
			row.NoteKey = incidents.Status(e.Note).Key()
		}
		v.Timeline = append(v.Timeline, row)
	}
	if v.Names, err = s.actorNames(c); err != nil {
		return err
	}
	if in.NoticeCampaign != "" {
		if v.Campaign, err = s.campaigns.FindCampaignByID(ctx, in.NoticeCampaign); err != nil {
			return err
		}
		// A campaign that no longer validates (a template retired since)
		// has its outcomes on its own page: the reach is left out.
		if v.Unreached, err = s.notifier().Reach(ctx, v.Campaign); err != nil {
			if handover.ErrorCode(err) == handover.EINTERNAL {
				return err
			}
			v.ReachUnknown = true
		}
	} else if member(c).Role.Can(staff.ManageIncidents) {
		if v.Transfers, err = s.transfers.FindTransfers(ctx); err != nil {
			return err
		}
		v.Channels = s.campaignChannels()
	}
	return s.render(c, status, "incident", &page{Title: "incident.title", Nav: "compliance", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) notifier() *incidents.Notifier {
	return incidents.NewNotifier(s.incidents, s.campaigns, s.templates)
}

func (s *Dashboard) handleIncidentPage(c echo.Context) error {
	return s.incidentPage(c, http.StatusOK, incidentPageView{})
}

// handleIncidentEventPage adds a timeline step, or moves the status
// (kind=status, note=the status).
func (s *Dashboard) handleIncidentEventPage(c echo.Context) error {
	err := s.incidents.AddEvent(c.Request().Context(), c.Param("id"), c.FormValue("kind"), c.FormValue("note"), member(c).Actor())
	if err != nil {
		return formFailed(c, err, func(status int, msg string) error {
			return s.incidentPage(c, status, incidentPageView{EventError: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("id")+"?done=incident_event")
}

// handleIncidentNoticePage drafts the notice campaign to the affected
// customers; the incident page then says who it cannot reach, and the
// campaign's page sends it.
func (s *Dashboard) handleIncidentNoticePage(c echo.Context) error {
	form, _ := c.FormParams()
	var chs []channels.Name
	for _, ch := range form["channels"] {
		if slices.Contains(s.campaignChannels(), channels.Name(ch)) {
			chs = append(chs, channels.Name(ch))
		}
	}
	_, _, err := s.notifier().DraftNotice(c.Request().Context(), c.Param("id"), incidents.NoticeRequest{TransferID: c.FormValue("transfer_id"),
		Channels: chs, Locale: c.FormValue("locale"), Actor: member(c).Actor()})
	if err != nil {
		return formFailed(c, err, func(status int, msg string) error {
			return s.incidentPage(c, status, incidentPageView{NoticeError: msg})
		})
	}
	return c.Redirect(http.StatusSeeOther, "/incidents/"+c.Param("id")+"?done=notice_drafted")
}

// handleIncidentReportPage shows the regulator's report (no personal
// data); ?download=1 saves it as a file.
func (s *Dashboard) handleIncidentReportPage(c echo.Context) error {
	body, err := public.IncidentReport(c, s.incidents, c.Param("id"))
	if err != nil {
		return err
	}
	if c.QueryParam("download") == "1" {
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="incident-`+c.Param("id")+`.html"`)
	}
	return c.HTMLBlob(http.StatusOK, body)
}
