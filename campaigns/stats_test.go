package campaigns_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/transfers"
)

// TestCampaignFunnel: opening a link, consenting, declining, answering
// the survey and sending a correction from a campaign's links move its
// funnel, in all and for the channel; another campaign's links do not.
func TestCampaignFunnel(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("funnel")
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		st, err := e.svc.Stats(ctx, c.ID)
		if err != nil || st.Funnel != (campaigns.Funnel{Links: 3}) {
			t.Fatalf("before: %+v, %v", st.Funnel, err)
		}
		store := links.NewStore(db, e.vault, e.cs, transfers.NewStore(db), 0)
		var opened []*links.Link
		for _, m := range e.messagesOf(c.ID)[:2] {
			l, err := store.Open(ctx, m.Link[strings.LastIndex(m.Link, "/")+1:])
			if err != nil {
				t.Fatal(err)
			}
			opened = append(opened, l)
		}
		consent := func(l *links.Link, decision string) {
			t.Helper()
			if _, err := e.cs.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: l.CustomerID, TransferID: l.TransferID,
				Purpose: l.Purposes[0], Decision: decision, Source: customers.SourcePortal, LinkID: l.ID, Actor: "customer:" + l.CustomerID}}); err != nil {
				t.Fatal(err)
			}
		}
		consent(opened[0], customers.ConsentGranted)
		consent(opened[0], customers.ConsentWithdrawn)
		consent(opened[1], customers.ConsentGranted)
		nps := 9
		if _, _, err := store.AnswerSurvey(ctx, opened[1], links.SurveyAnswer{NPS: &nps}); err != nil {
			t.Fatal(err)
		}
		if _, err := rights.NewStore(e.cs).RequestCorrection(ctx, rights.CorrectionInput{CustomerID: opened[1].CustomerID, LinkID: opened[1].ID,
			Proposed: rights.CorrectionFields{Company: "新公司"}, Source: customers.SourcePortal, Actor: "customer:" + opened[1].CustomerID}, nil); err != nil {
			t.Fatal(err)
		}
		// A link of the same customer outside the campaign counts nowhere.
		if _, other, err := store.Issue(ctx, links.IssueRequest{CustomerID: opened[0].CustomerID, TransferID: e.transfer, Actor: "staff:test"}); err != nil {
			t.Fatal(err)
		} else {
			consent(other, customers.ConsentGranted)
		}
		st, err = e.svc.Stats(ctx, c.ID)
		want := campaigns.Funnel{Links: 3, Opened: 2, Consented: 2, Declined: 1, Corrected: 1, Surveyed: 1}
		if err != nil || st.Funnel != want || st.FunnelByChannel["devbox"] != want {
			t.Fatalf("after: %+v %+v, %v", st.Funnel, st.FunnelByChannel, err)
		}
	})
}
