package portal

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/links"
)

// surveyView is the survey form: which scores it asks and, after a bad
// submit, what was entered.
type surveyView struct {
	Survey   links.Survey
	NPSRange []int
	CSATRng  []int
	NPS      string
	CSAT     string
	Text     string
}

func newSurveyView(sv links.Survey) surveyView {
	return surveyView{Survey: sv, NPSRange: []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, CSATRng: []int{1, 2, 3, 4, 5}}
}

// handlePortalSurvey shows the campaign's survey, or the thanks page once
// the link has an answer.
func (s *Portal) handlePortalSurvey(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	_, err := s.links.FindSurveyAnswer(ctx, l)
	if err == nil || c.QueryParam("saved") == "1" {
		v.Result = resultView{Title: v.T["survey_saved"], Detail: v.T["survey_saved_detail"], Action: v.T["back_notice"], Href: v.Base}
		return s.renderPortal(c, http.StatusOK, "result", v)
	} else if handover.ErrorCode(err) != handover.ENOTFOUND {
		return err
	}
	sv, err := s.links.SurveyFor(ctx, l)
	if err != nil {
		return err
	}
	v.Survey = newSurveyView(sv)
	return s.renderPortal(c, http.StatusOK, "survey", v)
}

// handlePortalSurveySubmit stores the link's one answer; free text or a
// low score goes to the feedback queue as a portal message (deduplicated
// by the answer's id, so a repeat submit opens no second ticket).
func (s *Portal) handlePortalSurveySubmit(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	sv, err := s.links.SurveyFor(ctx, l)
	if err != nil {
		return err
	}
	a := links.SurveyAnswer{Text: c.FormValue("text")}
	bad := false
	if sv.NPS {
		a.NPS, bad = formScore(c.FormValue("nps"), bad)
	}
	if sv.CSAT {
		a.CSAT, bad = formScore(c.FormValue("csat"), bad)
	}
	var saved *links.SurveyAnswer
	if !bad {
		saved, _, err = s.links.AnswerSurvey(ctx, l, a)
	}
	if bad || handover.ErrorCode(err) == handover.EINVALID {
		v.Survey = newSurveyView(sv)
		v.Survey.NPS, v.Survey.CSAT, v.Survey.Text = c.FormValue("nps"), c.FormValue("csat"), c.FormValue("text")
		v.Problem = v.T["survey_bad"]
		if utf8.RuneCountInString(a.Text) > links.MaxSurveyText {
			v.Problem = v.T["survey_long"]
		}
		return s.renderPortal(c, http.StatusBadRequest, "survey", v)
	} else if err != nil {
		return err
	}
	if saved.NeedsFollowUp() && s.recordEvent != nil {
		ev := channels.InboundEvent{Channel: channels.Portal, Kind: channels.EventMessage, DedupKey: saved.ID,
			CustomerID: saved.CustomerID, DeliveryID: l.DeliveryID, Text: surveyText(saved), OccurredAt: saved.CreatedAt}
		if _, err := s.recordEvent(ctx, []channels.InboundEvent{ev}); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, v.Base+"/survey?saved=1")
}

func formScore(v string, bad bool) (*int, bool) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, true
	}
	return &n, bad
}

// surveyText is the ticket's text: the scores, then the comment.
func surveyText(a *links.SurveyAnswer) string {
	t := ""
	if a.NPS != nil {
		t += "NPS " + strconv.Itoa(*a.NPS) + "/10\n"
	}
	if a.CSAT != nil {
		t += "CSAT " + strconv.Itoa(*a.CSAT) + "/5\n"
	}
	return t + a.Text
}
