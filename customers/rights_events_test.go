package customers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestRightsRequestsReachTheInbox: a correction becoming pending and a
// data-access grant each record one portal message for the customer,
// naming fields but no value, so feedback opens a ticket with its SLA.
func TestRightsRequestsReachTheInbox(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := setClock(db)
		vault := piitest.Vault(t, db)
		s := customers.NewStore(db, vault)
		in := inboxtest.New(t, db, vault, queuetest.Open(t))
		s.RecordRights = in.Record
		a, _ := seedRightsCustomers(t, s)
		out := &outbox{}

		// Awaiting its code: nothing yet; confirmed: one message, once.
		r := request(t, s, out, a, customers.CorrectionFields{Phone: "13700002222"})
		if n := portalEvents(t, db, a); len(n) != 0 {
			t.Fatalf("an unconfirmed request recorded %v", n)
		}
		code := out.lastCode(t)
		for range 2 {
			if _, err := s.ConfirmCorrection(ctx, a, r.ID, code); err != nil {
				t.Fatal(err)
			}
		}
		// A request without a new contact is pending at once.
		request(t, s, out, a, customers.CorrectionFields{Address: "杭州市西湖区三号路"})
		clk.advance(2 * time.Minute) // codes: one a minute
		ch, err := s.StartDataAccess(ctx, a, "phone", out.send)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.VerifyDataAccess(ctx, a, ch.ID, out.lastCode(t)); err != nil {
			t.Fatal(err)
		}
		ids := portalEvents(t, db, a)
		if len(ids) != 3 {
			t.Fatalf("%d portal events, want 2 corrections and 1 data access", len(ids))
		}
		var texts []string
		for _, id := range ids {
			ev, _, err := in.FindEventByID(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind != channels.EventMessage || ev.CustomerID != a || !strings.Contains(ev.Text, "更正") {
				t.Errorf("event = %+v", ev)
			}
			texts = append(texts, ev.Text)
		}
		all := strings.Join(texts, "\n")
		if !strings.Contains(all, "phone") || !strings.Contains(all, "address") || !strings.Contains(all, "查阅") {
			t.Errorf("texts do not name the fields and kinds:\n%s", all)
		}
		for _, v := range []string{"13700002222", "3700002222", "杭州", "13812345678", "张三"} {
			if strings.Contains(all, v) {
				t.Errorf("a rights event holds the personal value %q", v)
			}
		}
	})
}

func portalEvents(t *testing.T, db *database.DB, customerID string) []string {
	t.Helper()
	ids, err := db.QueryIDs(context.Background(), `SELECT id FROM inbound_events WHERE channel = 'portal' AND customer_id = $1 ORDER BY id`, customerID)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
