package dashboard

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

// registerCompliancePages: the compliance pages (incidents, impact
// assessments, the buyer's export, destruction plans, training modules
// and agreement versions), each for the roles whose permissions its API
// routes check, calling the same domain services.
func (s *Dashboard) registerCompliancePages() {
	s.pageRoute(http.MethodGet, "/compliance", s.handleComplianceHome, "")
	s.registerIncidentPages()
	s.registerAssessmentPages()
	s.registerExportPages()
	s.registerDestructionPages()
	s.registerTrainingAdminPages()
}

type complianceHomeView struct {
	Transfers []*transfers.Transfer
}

// handleComplianceHome lists what each compliance page is for, with the
// transfers whose assessments, export and destruction hang off them.
func (s *Dashboard) handleComplianceHome(c echo.Context) error {
	m := member(c)
	if !m.Role.Can(staff.ReadAudit) && !m.Role.Can(staff.WriteAssessments) {
		return handover.Errorf(handover.EFORBIDDEN, "Your role may not open the compliance pages.")
	}
	list, err := s.transfers.FindTransfers(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "compliance", &page{Title: "compliance.title", Nav: "compliance", Data: complianceHomeView{Transfers: list}})
}

// complianceErrors name the domain's user-facing messages the compliance
// pages show in the reader's language, by how the message starts (or,
// with a leading "…", what it contains).
var complianceErrors = []struct{ match, key string }{
	{"Another person must approve an assessment", "cerr.assessment_self"},
	{"This assessment was already decided", "cerr.assessment_decided"},
	{"An assessment needs its", "cerr.assessment_fields"},
	{"activity must be", "cerr.assessment_activity"},
	{"Purpose ", "cerr.purpose"},
	{"The person who requested a destruction cannot also approve it", "cerr.destruction_self"},
	{"Only an auditor may approve", "cerr.destruction_auditor"},
	{"Only an admin may request", "cerr.destruction_admin"},
	{"Only an admin or an auditor may cancel", "cerr.destruction_cancel_role"},
	{"This transfer already has an open destruction plan", "cerr.destruction_open"},
	{"This plan is ", "cerr.plan_state"},
	{"This destruction plan is ", "cerr.plan_state"},
	{"This destruction needs an auditor's approval", "cerr.destruction_unapproved"},
	{"This destruction is not due until", "cerr.destruction_not_due"},
	{"Only a plan that has not started", "cerr.destruction_started"},
	{"Retention must be between", "cerr.retention"},
	{"The destruction ran but its verification failed", "cerr.verify_failed"},
	{"The buyer key must be", "cerr.buyer_key"},
	{"An approved impact assessment (PIPL Art. 55)", "cerr.assessment_required"},
	{"Consent rule must be", "cerr.rule"},
	{"The consent rule needs at least one purpose", "cerr.rule_purpose"},
	{"An incident needs its", "cerr.incident_fields"},
	{"…is too long", "cerr.too_long"},
	{"Name the data categories", "cerr.incident_categories"},
	{"Unknown data category", "cerr.incident_categories"},
	{"occurred_at and discovered_at", "cerr.incident_dates"},
	{"Customer ", "cerr.customer_unknown"},
	{"A timeline entry needs a note", "cerr.event_note"},
	{"Status must be", "cerr.event_status"},
	{"kind must be", "cerr.event_kind"},
	{"This incident already has its notice campaign", "cerr.notice_exists"},
	{"The incident names no affected customer", "cerr.notice_nobody"},
	{"transfer_id is required", "cerr.notice_transfer"},
	{"channels must name at least one", "cerr.notice_channels"},
	{"…incident_notice template", "cerr.notice_template"},
	{"A training module needs a title", "cerr.training_text"},
	{"A training module needs 1 to 50", "cerr.training_questions"},
	{"Question ", "cerr.training_question"},
	{"Pass score and period are whole numbers", "cerr.training_numbers"},
	{"Training module not found or already retired", "cerr.training_retired"},
	{"role must be", "cerr.role"},
	{"…not found", "cerr.not_found"},
	{"The agreement needs its text", "cerr.agreement"},
}

// complianceErrorText is err in the reader's language: the compliance
// pages' own wording for the domain messages their forms meet (it names
// the form's fields), else the catalog's localized message.
func complianceErrorText(locale string, err error) string {
	var throttled *staff.ThrottledError
	if errors.As(err, &throttled) {
		return translate(locale, "cerr.throttled")
	}
	if handover.ErrorCode(err) == handover.EUNAUTHORIZED {
		return translate(locale, "cerr.reauth")
	}
	msg := handover.ErrorMessage(err)
	for _, e := range complianceErrors {
		if rest, ok := strings.CutPrefix(e.match, "…"); ok && strings.Contains(msg, rest) || !ok && strings.HasPrefix(msg, e.match) {
			return translate(locale, e.key)
		}
	}
	return handover.LocalizedMessage(locale, err)
}

// formFailed answers a form whose domain call failed: an internal error
// goes to the error page (and the log); any other is shown on the form
// again, in the reader's language, with the code's status.
func formFailed(c echo.Context, err error, show func(status int, msg string) error) error {
	code := handover.ErrorCode(err)
	var throttled *staff.ThrottledError
	if code == handover.EINTERNAL && !errors.As(err, &throttled) {
		return err
	}
	status := kit.Status(code)
	if errors.As(err, &throttled) {
		status = http.StatusTooManyRequests
	}
	return show(status, complianceErrorText(member(c).Locale, err))
}

// formText is the error shown on a page's form, as a message in the
// reader's language for an invalid input the handler found itself.
func formText(c echo.Context, key string) string { return translate(member(c).Locale, key) }

// actorNames maps audit actors ("staff:ID") to the member's name, or
// email, for pages that say who did what.
func (s *Dashboard) actorNames(c echo.Context) (map[string]string, error) {
	list, err := s.staff.FindMembers(c.Request().Context())
	if err != nil {
		return nil, err
	}
	out := map[string]string{"cli": translate(member(c).Locale, "compliance.actor_cli"), "system": translate(member(c).Locale, "compliance.actor_system")}
	for _, m := range list {
		out[m.Actor()] = m.Email
		if m.Name != "" {
			out[m.Actor()] = m.Name
		}
	}
	return out, nil
}

// pickTransfer is the transfer a per-transfer page shows: ?transfer=, or
// else the newest; nil when there is none.
func (s *Dashboard) pickTransfer(c echo.Context, id string) ([]*transfers.Transfer, *transfers.Transfer, error) {
	list, err := s.transfers.FindTransfers(c.Request().Context())
	if err != nil {
		return nil, nil, err
	}
	for _, t := range list {
		if t.ID == id {
			return list, t, nil
		}
	}
	if id != "" {
		return nil, nil, handover.Errorf(handover.ENOTFOUND, "Transfer not found.")
	}
	if len(list) == 0 {
		return list, nil, nil
	}
	return list, list[0], nil
}
