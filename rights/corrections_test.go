package rights_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/transfers"
)

// seedRightsCustomers imports two customers, A and B, and returns their ids.
func seedRightsCustomers(t *testing.T, s *store) (a, b string) {
	t.Helper()
	path := writeFile(t, "c.csv", csvText("姓名,手机,邮箱,公司,地址",
		"张三,13812345678,zhang@example.com,甲商贸,上海市一号路",
		"李四,13900001111,li@example.com,乙商贸,北京市二号路"))
	if _, err := newImporter(t, s).Run(context.Background(), path, nil, "test", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range allCustomers(t, s, customers.Filter{}) {
		switch c.Name {
		case "张三":
			a = c.ID
		case "李四":
			b = c.ID
		}
	}
	return a, b
}

func request(t *testing.T, s *store, out *outbox, id string, f rights.CorrectionFields) *rights.CorrectionRequest {
	t.Helper()
	r, err := s.RequestCorrection(context.Background(), rights.CorrectionInput{CustomerID: id, Proposed: f,
		Source: customers.SourcePortal, Actor: "customer:" + id}, out.send)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCorrectionWithoutNewContact(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, _ := seedRightsCustomers(t, s)
		out := &outbox{}

		_, err := s.RequestCorrection(ctx, rights.CorrectionInput{CustomerID: a, Proposed: rights.CorrectionFields{Name: "张三"},
			Source: customers.SourcePortal, Actor: "customer:" + a}, out.send)
		if handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("a proposal equal to the record: %v", err)
		}
		r := request(t, s, out, a, rights.CorrectionFields{Name: "张三丰", Address: "上海市三号路", Company: "甲商贸"})
		if r.Status != rights.CorrectionPending || len(out.msgs) != 0 || len(r.Fields) != 2 || r.Proposed.Company != "" {
			t.Fatalf("request = %+v, %d codes sent", r, len(out.msgs))
		}
		if again := request(t, s, out, a, rights.CorrectionFields{Name: "张三丰", Address: "上海市三号路"}); again.ID != r.ID {
			t.Error("a repeated submit made a second request")
		}
		if cu, _ := s.FindCustomerByID(ctx, a); cu.Name != "张三" {
			t.Error("a request changed the customer before approval")
		}
		list, next, err := s.FindCorrections(ctx, rights.CorrectionFilter{})
		if err != nil || len(list) != 1 || next != "" {
			t.Fatalf("pending = %d, %q, %v", len(list), next, err)
		}
		if m := list[0].Masked(); m.Current.Name != "张**" || m.Proposed.Name != "张**" || m.Proposed.Address == "上海市三号路" {
			t.Errorf("masked = %+v", m)
		}
		if _, err := s.RevealCorrection(ctx, r.ID, "staff:s1", ""); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("reveal without reason: %v", err)
		}
		if rv, err := s.RevealCorrection(ctx, r.ID, "staff:s1", "客户来电核对"); err != nil || rv.Proposed.Name != "张三丰" {
			t.Errorf("reveal = %+v, %v", rv, err)
		}

		if _, err := s.RejectCorrection(ctx, r.ID, "staff:s1", " "); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("reject without reason: %v", err)
		}
		app, err := s.ApproveCorrection(ctx, r.ID, "staff:s1")
		if err != nil || app.Status != rights.CorrectionApproved || app.DecidedBy != "staff:s1" || app.DecidedAt == nil {
			t.Fatalf("approve = %+v, %v", app, err)
		}
		cu, _ := s.FindCustomerByID(ctx, a)
		if cu.Name != "张三丰" || cu.Address != "上海市三号路" || cu.Phone != "+8613812345678" || cu.Company != "甲商贸" {
			t.Errorf("customer after approval = %+v", cu)
		}
		if _, err := s.ApproveCorrection(ctx, r.ID, "staff:s2"); err != nil {
			t.Errorf("approving twice: %v", err)
		}
		if _, err := s.RejectCorrection(ctx, r.ID, "staff:s1", "重复"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("rejecting an approved request: %v", err)
		}
		if n := countRows(t, db, "audit_log WHERE action = 'correction.approve'"); n != 1 {
			t.Errorf("approve audited %d times", n)
		}

		r2 := request(t, s, out, a, rights.CorrectionFields{Company: "丙商贸"})
		rej, err := s.RejectCorrection(ctx, r2.ID, "staff:s1", "营业执照未变更")
		if err != nil || rej.Status != rights.CorrectionRejected || rej.Reason != "营业执照未变更" {
			t.Fatalf("reject = %+v, %v", rej, err)
		}
		if _, err := s.RejectCorrection(ctx, r2.ID, "staff:s1", "again"); err != nil {
			t.Errorf("rejecting twice: %v", err)
		}
		if _, err := s.ApproveCorrection(ctx, r2.ID, "staff:s1"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("approving a rejected request: %v", err)
		}
		if _, err := s.ApproveCorrection(ctx, "01J00000000000000000000000", "staff:s1"); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("approving an unknown request: %v", err)
		}
		if n := countRows(t, db, "correction_requests WHERE proposed_enc LIKE '%丙%'"); n != 0 {
			t.Error("a proposed value is stored in the clear")
		}
	})
}

func TestCorrectionOfPhoneNeedsCode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, b := seedRightsCustomers(t, s)
		out := &outbox{}

		_, err := s.RequestCorrection(ctx, rights.CorrectionInput{CustomerID: a, Proposed: rights.CorrectionFields{Phone: "13700002222", Email: "new@example.com"},
			Source: customers.SourcePortal, Actor: "customer:" + a}, out.send)
		if handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("phone and email at once: %v", err)
		}
		r := request(t, s, out, a, rights.CorrectionFields{Phone: "137 0000 2222"})
		if r.Status != rights.CorrectionAwaitingConfirmation || r.Challenge == nil || r.Challenge.To != "137****2222" {
			t.Fatalf("request = %+v", r)
		}
		if len(out.msgs) != 1 || out.msgs[0].To.Phone != "+8613700002222" {
			t.Fatalf("code sent to %+v", out.msgs)
		}
		if list, _, _ := s.FindCorrections(ctx, rights.CorrectionFilter{}); len(list) != 0 {
			t.Error("an unconfirmed request is pending review")
		}
		if _, err := s.ApproveCorrection(ctx, r.ID, "staff:s1"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("approving before the code: %v", err)
		}
		code := out.lastCode(t)
		if _, err := s.ConfirmCorrection(ctx, a, r.ID, wrong(code)); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("wrong code: %v", err)
		}
		if _, err := s.ConfirmCorrection(ctx, b, r.ID, code); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("another customer's request: %v", err)
		}
		if _, err := s.ResendCorrectionCode(ctx, a, r.ID, "en", out.send); handover.ErrorCode(err) != handover.ETOOMANY {
			t.Errorf("resend within a minute: %v", err)
		}
		c, err := s.ConfirmCorrection(ctx, a, r.ID, code)
		if err != nil || c.Status != rights.CorrectionPending {
			t.Fatalf("confirm = %+v, %v", c, err)
		}
		if c, err := s.ConfirmCorrection(ctx, a, r.ID, code); err != nil || c.Status != rights.CorrectionPending {
			t.Errorf("confirming twice = %+v, %v", c, err)
		}
		if _, err := s.ApproveCorrection(ctx, r.ID, "staff:s1"); err != nil {
			t.Fatal(err)
		}
		if id, _ := s.MatchContact(ctx, "", "+8613700002222", ""); id != a {
			t.Errorf("the new phone matches %q, want A", id)
		}
		if id, _ := s.MatchContact(ctx, "", "+8613812345678", ""); id != "" {
			t.Errorf("the old phone still matches %q", id)
		}
		if id, _ := s.MatchContact(ctx, "", "", "zhang@example.com"); id != a {
			t.Errorf("the unchanged email matches %q", id)
		}
	})
}

func TestCorrectionConflictsAndRaces(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clk := setClock(db)
		s := newStore(t, db)
		a, b := seedRightsCustomers(t, s)
		out := &outbox{}

		// A proposes B's email: allowed to ask (no hint who has it), refused on approval.
		r := request(t, s, out, a, rights.CorrectionFields{Email: "li@example.com"})
		if _, err := s.ConfirmCorrection(ctx, a, r.ID, out.lastCode(t)); err != nil {
			t.Fatal(err)
		}
		_, err := s.ApproveCorrection(ctx, r.ID, "staff:s1")
		if handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("email of another customer: %v", err)
		}
		if got := handover.ErrorMessage(err); got == "" || containsAny(got, "li@example.com", "李四", b) {
			t.Errorf("conflict message %q", got)
		}
		if cu, _ := s.FindCustomerByID(ctx, a); cu.Email != "zhang@example.com" {
			t.Error("a refused approval changed the customer")
		}
		if st := mustCorrection(t, s, r.ID).Status; st != rights.CorrectionPending {
			t.Errorf("after a conflict the request is %s", st)
		}

		// A new request replaces the open one.
		clk.advance(2 * time.Minute)
		r2 := request(t, s, out, a, rights.CorrectionFields{Phone: "13700003333"})
		if st := mustCorrection(t, s, r.ID).Status; st != rights.CorrectionCancelled {
			t.Errorf("replaced request is %s", st)
		}
		if _, err := s.ConfirmCorrection(ctx, a, r2.ID, out.lastCode(t)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 6)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = s.ApproveCorrection(ctx, r2.ID, "staff:s1")
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, "audit_log WHERE action = 'correction.approve'"); n != 1 {
			t.Errorf("concurrent approvals applied %d times", n)
		}
		if id, _ := s.MatchContact(ctx, "", "+8613700003333", ""); id != a {
			t.Errorf("new phone matches %q", id)
		}
	})
}

func mustCorrection(t *testing.T, s *store, id string) *rights.CorrectionRequest {
	t.Helper()
	for _, st := range []rights.CorrectionStatus{rights.CorrectionAwaitingConfirmation, rights.CorrectionPending, rights.CorrectionApproved,
		rights.CorrectionRejected, rights.CorrectionCancelled} {
		list, _, err := s.FindCorrections(context.Background(), rights.CorrectionFilter{Status: st})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			if r.ID == id {
				return r
			}
		}
	}
	t.Fatalf("request %s not found", id)
	return nil
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if sub != "" && strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// An archived customer (归档) is read-only: a correction is not applied.
func TestCorrectionOfArchivedCustomer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		a, _ := seedRightsCustomers(t, s)
		r := request(t, s, &outbox{}, a, rights.CorrectionFields{Address: "上海市三号路"})
		tr := &transfers.Transfer{SellerName: "甲", BuyerName: "乙", BuyerContact: "400", EffectiveDate: "2026-01-01",
			Purposes: []string{"售后"}, DataCategories: []string{"name"}, RetentionDays: 30}
		if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO archive_records (record_type, record_id, transfer_id, archive_no, classification,
			archived_by, archived_at) VALUES ('customer', $1, $2, 'HO-2026-0001-000001', 'no_response', 'test', $3)`, a, tr.ID, db.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApproveCorrection(ctx, r.ID, "staff:s1"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("approving an archived customer's correction: %v", err)
		}
		if cu, _ := s.FindCustomerByID(ctx, a); cu.Address != "上海市一号路" {
			t.Error("an archived customer changed")
		}
	})
}
