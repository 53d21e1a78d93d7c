package web_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/handoverhq/handover/links"
)

// surveyLink issues a link outside a campaign asking sv, as the survey
// after a ticket is resolved does.
func (a *app) surveyLink(customer, transfer string, sv links.Survey) string {
	a.t.Helper()
	token, l := a.issue(customer, transfer)
	if err := a.links.SetLinkSurvey(context.Background(), l.ID, sv); err != nil {
		a.t.Fatal(err)
	}
	return token
}

// TestPortalSurveyScores: a survey set as CSAT shows the 1–5 scale only
// and stores a CSAT score; one set as NPS shows 0–10 only and stores an
// NPS score; each refuses the other's score.
func TestPortalSurveyScores(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		for _, tc := range []struct {
			name            string
			sv              links.Survey
			field, other    string
			score, outOfRng string
			column          string
		}{
			{"csat", links.Survey{CSAT: true}, "csat", "nps", "4", "0", "csat"},
			{"nps", links.Survey{NPS: true}, "nps", "csat", "0", "11", "nps"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				token := a.surveyLink(ids[0], transfer, tc.sv)
				v := a.visitor()
				_, page := v.get("/l/" + token + "/survey")
				if !strings.Contains(page, `id="`+tc.field+`-`+tc.score+`"`) || strings.Contains(page, `name="`+tc.other+`"`) {
					t.Fatalf("%s survey form:\n%s", tc.name, page)
				}
				csrf := v.form("/l/" + token + "/survey")
				for _, bad := range []url.Values{{tc.other: {"3"}}, {tc.field: {tc.outOfRng}}} {
					bad.Set("_csrf", csrf)
					if code, _, _ := v.post("/l/"+token+"/survey", bad); code != http.StatusBadRequest {
						t.Fatalf("%v: %d", bad, code)
					}
				}
				if code, _, _ := v.post("/l/"+token+"/survey", url.Values{"_csrf": {csrf}, tc.field: {tc.score}}); code != http.StatusSeeOther {
					t.Fatalf("answer: %d", code)
				}
				var nps, csat sql.NullInt64
				err := a.db.QueryRowContext(ctx, `SELECT a.nps, a.csat FROM survey_answers a JOIN links l ON l.id = a.link_id
					WHERE l.token_hash = $1`, links.HashToken(token)).Scan(&nps, &csat)
				got, absent := csat, nps
				if tc.column == "nps" {
					got, absent = nps, csat
				}
				if want, _ := strconv.Atoi(tc.score); err != nil || !got.Valid || got.Int64 != int64(want) || absent.Valid {
					t.Fatalf("stored nps %v csat %v, %v", nps, csat, err)
				}
			})
		}
	})
}
