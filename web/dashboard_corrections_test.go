package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
)

// correction files a pending address correction for the customer.
func (a *app) correction(customerID, address string) string {
	a.t.Helper()
	r, err := a.rights.RequestCorrection(context.Background(), rights.CorrectionInput{CustomerID: customerID,
		Proposed: rights.CorrectionFields{Address: address}, Source: customers.SourceStaff, Actor: "staff:test"}, nil)
	if err != nil || r.Status != rights.CorrectionPending {
		a.t.Fatalf("correction request: %+v, %v", r, err)
	}
	return r.ID
}

// TestDashboardCorrections reviews corrections: masked side by side,
// revealed for a reason, approved (the customer changes) and rejected
// with a reason; forms need CSRF and the role.
func TestDashboardCorrections(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		customerID := a.oneCustomer()
		id := a.correction(customerID, "上海市浦东新区世纪大道100号")
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		resp, body := w.get("/corrections")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="correction-`+id+`"`) || strings.Contains(body, "世纪大道100号") ||
			!strings.Contains(body, "张*") || strings.Contains(body, "张三") {
			t.Fatalf("corrections: %d (want the request, masked)\n%s", resp.StatusCode, body)
		}
		if untranslated.MatchString(body) {
			t.Fatalf("an untranslated key\n%s", body)
		}
		if len(a.auditActions("correction.list")) == 0 {
			t.Fatal("the list is not audited")
		}
		for _, action := range []string{"reveal", "approve", "reject"} {
			if resp, _ := w.post("/corrections/"+id+"/"+action, url.Values{"csrf": {"forged"}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s without CSRF: %d", action, resp.StatusCode)
			}
		}
		if resp, body := w.post("/corrections/"+id+"/reveal", url.Values{"reason": {"核对地址"}}); resp.StatusCode != http.StatusOK ||
			!strings.Contains(body, "上海市浦东新区世纪大道100号") {
			t.Fatalf("reveal: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := w.post("/corrections/"+id+"/reject", url.Values{"reason": {""}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("reject without a reason: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/corrections/"+id+"/approve", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("approve: %d", resp.StatusCode)
		}
		if cu, _ := a.customers.FindCustomerByID(ctx, customerID); cu.Address != "上海市浦东新区世纪大道100号" {
			t.Fatalf("address after approval = %q", cu.Address)
		}
		if len(a.auditActions("correction.approve")) != 1 {
			t.Fatal("the approval is not audited")
		}

		other := a.correction(customerID, "北京市朝阳区")
		w.get("/corrections")
		if resp, _ := w.post("/corrections/"+other+"/reject", url.Values{"reason": {"地址不完整"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reject: %d", resp.StatusCode)
		}
		if _, body := w.get("/corrections?status=rejected"); !strings.Contains(body, "地址不完整") {
			t.Fatalf("rejected list lacks the reason\n%s", body)
		}

		_, memail := a.staffMember(staff.Marketer, "marketer")
		mw := a.newWebClient()
		mw.login(memail, testPassword)
		if resp, _ := mw.get("/corrections"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("marketer: %d", resp.StatusCode)
		}
	})
}
