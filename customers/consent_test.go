package customers_test

import (
	"context"
	"sync"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/transfers"
)

// seedConsentCustomer imports one customer and makes a transfer with two
// purposes.
func seedConsentCustomer(t *testing.T, db *database.DB, s *customers.Store) (customerID string, tr *transfers.Transfer) {
	t.Helper()
	ctx := context.Background()
	path := writeFile(t, "c.csv", csvText("姓名,手机", "张三,13812345678"))
	if _, err := newImporter(t, s).Run(ctx, path, nil, "test", nil); err != nil {
		t.Fatal(err)
	}
	tr = &transfers.Transfer{SellerName: "甲公司", BuyerName: "乙公司", BuyerContact: "400-800-1234", EffectiveDate: "2026-03-01",
		Purposes: []string{"订单履约", "营销"}, DataCategories: []string{"name", "phone"}, RetentionDays: 365}
	if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "staff:s1"); err != nil {
		t.Fatal(err)
	}
	return allCustomers(t, s, customers.Filter{})[0].ID, tr
}

func TestRecordConsent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		id, tr := seedConsentCustomer(t, db, s)
		decide := func(purpose, decision string) []customers.ConsentEvent {
			t.Helper()
			evs, err := s.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: id, TransferID: tr.ID, Purpose: purpose,
				Decision: decision, Source: customers.SourcePortal, NoticeHash: "n1", IP: "203.0.113.9", UserAgent: "MicroMessenger", Actor: "customer:" + id}})
			if err != nil {
				t.Fatal(err)
			}
			return evs
		}
		if n := len(decide("营销", customers.ConsentWithdrawn)); n != 0 {
			t.Errorf("withdrawing what was never granted wrote %d events", n)
		}
		if n := len(decide("订单履约", customers.ConsentGranted)); n != 1 {
			t.Errorf("grant wrote %d events", n)
		}
		if n := len(decide("订单履约", customers.ConsentGranted)); n != 0 {
			t.Errorf("a repeated grant wrote %d events", n)
		}
		decide("营销", customers.ConsentDeclined)
		decide("订单履约", customers.ConsentWithdrawn)
		state, err := s.ConsentState(ctx, id, tr.ID)
		if err != nil || state["订单履约"] != customers.ConsentWithdrawn || state["营销"] != customers.ConsentDeclined {
			t.Fatalf("state = %v, %v", state, err)
		}
		hist, err := s.ConsentHistory(ctx, id)
		if err != nil || len(hist) != 3 || hist[0].IP != "203.0.113.9" || hist[2].Decision != customers.ConsentWithdrawn {
			t.Fatalf("history = %+v, %v", hist, err)
		}
		if got := countRows(t, db, "audit_log WHERE action LIKE 'consent.%'"); got != 3 {
			t.Errorf("audit entries = %d, want 3", got)
		}

		_, err = s.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: id, TransferID: tr.ID, Purpose: "卖给第三方",
			Decision: customers.ConsentGranted, Source: customers.SourcePortal, Actor: "customer:" + id}})
		if handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("unknown purpose: %v", err)
		}

		// Erasing the key keeps the decisions but not the evidence.
		if err := db.InTx(ctx, func(tx *database.Tx) error { return pii.DestroyCustomerKey(ctx, tx, id) }); err != nil {
			t.Fatal(err)
		}
		hist, err = s.ConsentHistory(ctx, id)
		if err != nil || len(hist) != 3 || hist[0].IP != "" || hist[0].UserAgent != "" || hist[0].NoticeHash != "n1" {
			t.Fatalf("history after shredding = %+v, %v", hist, err)
		}
	})
}

// Two tabs submitting the same grant at once write one event.
func TestRecordConsentConcurrent(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		id, tr := seedConsentCustomer(t, db, s)
		var wg sync.WaitGroup
		var mu sync.Mutex
		written := 0
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				evs, err := s.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: id, TransferID: tr.ID, Purpose: "营销",
					Decision: customers.ConsentGranted, Source: customers.SourcePortal, Actor: "customer:" + id}})
				if err != nil && handover.ErrorCode(err) != handover.ECONFLICT {
					t.Error(err)
				}
				mu.Lock()
				written += len(evs)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if written != 1 || countRows(t, db, "consent_events") != 1 {
			t.Errorf("8 concurrent grants wrote %d events (%d rows), want 1", written, countRows(t, db, "consent_events"))
		}
	})
}
