package rights_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/transfers"
)

// seedRightsHistory gives both customers consent decisions and a campaign
// delivery each (A's sent, B's planned), and A a correction request.
func seedRightsHistory(t *testing.T, db *database.DB, s *store, a, b string) *transfers.Transfer {
	t.Helper()
	ctx := context.Background()
	tr := &transfers.Transfer{SellerName: "甲公司", BuyerName: "乙公司", BuyerContact: "400-800-1234", EffectiveDate: "2026-03-01",
		Purposes: []string{"订单履约"}, DataCategories: []string{"name", "phone"}, RetentionDays: 365}
	if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "staff:s1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ id, ip string }{{a, "203.0.113.1"}, {b, "198.51.100.2"}} {
		if _, err := s.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: c.id, TransferID: tr.ID, Purpose: "订单履约",
			Decision: customers.ConsentGranted, Source: customers.SourcePortal, NoticeHash: "n1", IP: c.ip, UserAgent: "MicroMessenger/" + c.id,
			Actor: "customer:" + c.id}}); err != nil {
			t.Fatal(err)
		}
	}
	err := db.InTx(ctx, func(tx *database.Tx) error {
		campaign := ulid.Make().String()
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, name, transfer_id, kind, status, channels, template_ids, created_by, created_at, updated_at)
			VALUES ($1, '转让通知', $2, 'transfer_notice', 'running', 'sms', '{}', 'staff:s1', $3, $3)`, campaign, tr.ID, tx.Now); err != nil {
			return err
		}
		for _, d := range []struct{ customer, status string }{{a, "sent"}, {b, "planned"}} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, campaign_id, customer_id, batch, channel, status, updated_at)
				VALUES ($1, $2, $3, 0, 'sms', $4, $5)`, ulid.Make().String(), campaign, d.customer, d.status, tx.Now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	request(t, s, &outbox{}, a, rights.CorrectionFields{Address: "上海市三号路"})
	return tr
}

func TestCustomerDataHoldsOnlyTheCustomersOwn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, b := seedRightsCustomers(t, s)
		seedRightsHistory(t, db, s, a, b)

		d, err := s.CustomerData(ctx, a, "customer:"+a)
		if err != nil {
			t.Fatal(err)
		}
		if d.Customer.Name != "张三" || d.Customer.Phone != "+8613812345678" || len(d.Consent) != 1 || d.Consent[0].IP != "203.0.113.1" ||
			len(d.Corrections) != 1 || d.Corrections[0].Proposed.Address != "上海市三号路" || len(d.Deliveries) != 1 ||
			d.Deliveries[0].Status != "sent" || d.Deliveries[0].CampaignName != "转让通知" {
			t.Fatalf("data = %+v", d)
		}
		var js, cs bytes.Buffer
		if err := d.WriteJSON(&js); err != nil {
			t.Fatal(err)
		}
		if err := d.WriteCSV(&cs); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(js.Bytes()) {
			t.Error("JSON does not parse")
		}
		csvOut := cs.String()
		rows, err := csv.NewReader(&cs).ReadAll()
		if err != nil || len(rows) < 10 || rows[0][0] != "section" {
			t.Fatalf("CSV = %d rows, %v", len(rows), err)
		}
		for _, out := range []string{js.String(), csvOut} {
			for _, other := range []string{b, "李四", "13900001111", "li@example.com", "198.51.100.2", "乙商贸", "北京"} {
				if strings.Contains(out, other) {
					t.Errorf("A's data contains B's %q", other)
				}
			}
			if !strings.Contains(out, "zhang@example.com") || !strings.Contains(out, "203.0.113.1") {
				t.Error("A's data misses A's email or consent evidence")
			}
		}
		if n := countRows(t, db, "audit_log WHERE action = 'customer.data_export'"); n != 1 {
			t.Errorf("export audited %d times", n)
		}
		if _, err := s.CustomerData(ctx, "01J00000000000000000000000", "staff:s1"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("unknown customer: %v", err)
		}
	})
}

func TestEraseCustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, b := seedRightsCustomers(t, s)
		tr := seedRightsHistory(t, db, s, a, b)

		if _, err := s.RefuseErasure(ctx, b, "staff:s1", ""); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("refusal without reason: %v", err)
		}
		ref, err := s.RefuseErasure(ctx, b, "staff:s1", "订单未结清，依法保留")
		if err != nil || ref.ID == "" {
			t.Fatalf("refuse = %+v, %v", ref, err)
		}
		pending := request(t, s, &outbox{}, b, rights.CorrectionFields{Company: "丁商贸"})
		if _, err := s.EraseCustomer(ctx, b, "staff:s1", " "); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("erasure without reason: %v", err)
		}
		erased, err := s.EraseCustomer(ctx, b, "staff:s1", "客户要求删除")
		if err != nil || !erased {
			t.Fatalf("erase = %v, %v", erased, err)
		}
		if again, err := s.EraseCustomer(ctx, b, "staff:s1", "客户要求删除"); err != nil || again {
			t.Errorf("erasing twice = %v, %v", again, err)
		}
		if _, err := s.EraseCustomer(ctx, "01J00000000000000000000000", "staff:s1", "x"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("erasing an unknown customer: %v", err)
		}
		if _, err := s.ApproveCorrection(ctx, pending.ID, "staff:s1"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("approving an erased customer's correction: %v", err)
		}
		if st := mustCorrection(t, s, pending.ID).Status; st != rights.CorrectionCancelled {
			t.Errorf("an erased customer's open request is %s", st)
		}
		if _, err := s.RefuseErasure(ctx, b, "staff:s1", "late"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("refusing after erasure: %v", err)
		}

		cu, err := s.FindCustomerByID(ctx, b)
		if err != nil || cu.Status != customers.StatusErased || cu.Name != "" || cu.Phone != "" || cu.Email != "" || cu.ExternalRef != "" {
			t.Fatalf("erased customer = %+v, %v", cu, err)
		}
		if id, _ := s.MatchContact(ctx, "", "+8613900001111", "li@example.com"); id != "" {
			t.Error("an erased customer is still found by contact")
		}
		if n := countRows(t, db, "customer_keys WHERE customer_id = '"+b+"'"); n != 0 {
			t.Error("the data key survived")
		}
		if n := countRows(t, db, "customers WHERE id = '"+b+"' AND (pii_enc <> '' OR phone_idx IS NOT NULL OR email_idx IS NOT NULL)"); n != 0 {
			t.Error("sealed fields or blind indexes survived")
		}
		if n := countRows(t, db, "deliveries WHERE customer_id = '"+b+"' AND status = 'suppressed'"); n != 1 {
			t.Error("the unsent delivery was not suppressed")
		}
		// Consent decisions stay, their evidence unreadable.
		state, err := s.ConsentState(ctx, b, tr.ID)
		if err != nil || state["订单履约"] != customers.ConsentGranted {
			t.Errorf("consent state after erasure = %v, %v", state, err)
		}
		hist, err := s.ConsentHistory(ctx, b)
		if err != nil || len(hist) != 1 || hist[0].IP != "" || hist[0].NoticeHash != "n1" {
			t.Errorf("consent history after erasure = %+v, %v", hist, err)
		}
		d, err := s.CustomerData(ctx, b, "staff:s1")
		if err != nil || d.Customer.Name != "" || len(d.Erasure) != 2 || d.Erasure[1].Decision != rights.ErasureDone {
			t.Errorf("data after erasure = %+v, %v", d, err)
		}
		if _, err := s.StartDataAccess(ctx, b, "phone", (&outbox{}).send); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("code for an erased customer: %v", err)
		}
		if n := countRows(t, db, "audit_log WHERE action IN ('customer.erase', 'customer.erase_refused')"); n != 2 {
			t.Errorf("erasure audit entries = %d", n)
		}
		// A is untouched; the old phone of B may now be taken by a correction.
		if cu, _ := s.FindCustomerByID(ctx, a); cu.Name != "张三" {
			t.Error("erasing B touched A")
		}
	})
}

// TestEraseRacesApproval: whichever runs first, an erased customer ends
// with no blind index and no readable field, and neither call deadlocks.
func TestEraseRacesApproval(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, _ := seedRightsCustomers(t, s)
		out := &outbox{}
		r := request(t, s, out, a, rights.CorrectionFields{Phone: "13700004444"})
		if _, err := s.ConfirmCorrection(ctx, a, r.ID, out.lastCode(t)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 2)
		go func() {
			_, err := s.ApproveCorrection(ctx, r.ID, "staff:s1")
			if handover.ErrorCode(err) == handover.ECONFLICT {
				err = nil
			}
			done <- err
		}()
		go func() {
			_, err := s.EraseCustomer(ctx, a, "staff:s2", "客户要求删除")
			done <- err
		}()
		for range 2 {
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		}
		if n := countRows(t, db, "customers WHERE id = '"+a+"' AND (status <> 'erased' OR phone_idx IS NOT NULL OR email_idx IS NOT NULL OR pii_enc <> '')"); n != 0 {
			t.Error("the customer kept personal data after erasure")
		}
	})
}
