package web_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/templates"
)

// TestPortalWithdrawalSuppresses: withdrawing consent on the portal stops
// at once the customer's unsent messages that need it (a survey for that
// purpose); the other customer's stay queued.
func TestPortalWithdrawalSuppresses(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		ids, transfer := a.seedPortal()
		const purpose = "订单履行"
		var grants []customers.ConsentDecision
		for _, id := range ids {
			grants = append(grants, customers.ConsentDecision{CustomerID: id, TransferID: transfer, Purpose: purpose,
				Decision: customers.ConsentGranted, Source: customers.SourceStaff, Actor: "staff:test"})
		}
		if _, err := a.customers.RecordConsent(ctx, grants); err != nil {
			t.Fatal(err)
		}
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.Survey, Channel: channels.Devbox, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("survey template: %v", err)
		}
		c := &campaigns.Campaign{Name: "问卷", TransferID: transfer, Kind: templates.Survey, Purpose: purpose,
			Channels: []channels.Name{channels.Devbox}, Templates: map[channels.Name]string{channels.Devbox: list[0].ID},
			Audience: campaigns.Audience{CustomerIDs: ids}}
		if err := a.campaigns.Create(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := a.campaigns.Plan(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		token, _ := a.issue(ids[0], transfer)
		v := a.visitor()
		csrf := v.form("/l/" + token + "/consent")
		form := url.Values{"_csrf": {csrf}, "step": {"confirm"}, "p0": {"decline"}, "p1": {"decline"}}
		for i := 0; i < 2; i++ { // a repeat submit changes nothing more
			if code, _, _ := v.post("/l/"+token+"/consent", form); code != http.StatusSeeOther {
				t.Fatalf("withdraw: %d", code)
			}
		}
		st, err := a.campaigns.Stats(ctx, c.ID)
		if err != nil || st.SkippedByReason[campaigns.ReasonConsentWithdrew] != 1 || st.ByStatus["queued"] != 1 {
			t.Fatalf("stats %+v, %v", st, err)
		}
	})
}
