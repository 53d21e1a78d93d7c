package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

func TestExportToBuyerOverAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, marketer := a.tokenFor(staff.Admin), a.tokenFor(staff.Marketer)
		a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n李四,13912345678\n"))
		var tr struct {
			ID string `json:"id"`
		}
		body := `{"seller_name":"甲","buyer_name":"乙","buyer_contact":"400","effective_date":"2027-01-01","purposes":["order_fulfilment"],"data_categories":["phone"],"retention_days":30}`
		if code := a.postJSON("/api/v1/transfers", admin, body, &tr); code != http.StatusCreated {
			t.Fatalf("create transfer: %d", code)
		}
		list, _, _ := a.customers.FindCustomers(ctx, customers.Filter{Phone: "13812345678"})
		_, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: list[0].ID, TransferID: tr.ID,
			Purpose: "order_fulfilment", Decision: customers.ConsentGranted, Source: customers.SourceStaff, Actor: "staff:x"}})
		if err != nil {
			t.Fatal(err)
		}
		buyer, _ := age.GenerateX25519Identity()
		path := "/api/v1/transfers/" + tr.ID + "/exports"

		var counts struct{ Customers, All, Selected int }
		if code := a.postJSON(path, admin, `{"dry_run":true}`, &counts); code != http.StatusOK || counts.Customers != 2 || counts.Selected != 1 {
			t.Fatalf("dry run: %d %+v", code, counts)
		}
		if code := a.postJSON(path, marketer, `{"recipient":"`+buyer.Recipient().String()+`"}`, nil); code != http.StatusForbidden {
			t.Errorf("marketer export: %d, want 403", code)
		}
		var e apiError
		if code := a.postJSON(path, admin, `{"recipient":"not-a-key"}`, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "age") {
			t.Errorf("bad key: %d %+v", code, e)
		}
		if code := a.postJSON("/api/v1/transfers/01J0000000000000000000000/exports", admin, `{"recipient":"`+buyer.Recipient().String()+`"}`, nil); code != http.StatusNotFound {
			t.Errorf("unknown transfer: %d", code)
		}
		// No export before an approved impact assessment for its purpose.
		if code := a.postJSON(path, admin, `{"recipient":"`+buyer.Recipient().String()+`"}`, &e); code != http.StatusForbidden ||
			!strings.Contains(e.Error.Message, "order_fulfilment") || !strings.Contains(e.Error.Message, "impact assessment") {
			t.Errorf("export without assessment: %d %+v", code, e)
		}
		var as struct{ ID string }
		pia := `{"transfer_id":"` + tr.ID + `","activity":"export","purpose":"order_fulfilment","necessity":"买方继续履约","risks":"传输泄露","measures":"仅买方密钥可解密"}`
		if code := a.postJSON("/api/v1/assessments", marketer, pia, &as); code != http.StatusCreated {
			t.Fatalf("create assessment: %d", code)
		}
		if code := a.postJSON("/api/v1/assessments/"+as.ID+"/approve", admin, ``, nil); code != http.StatusNoContent {
			t.Fatalf("approve assessment: %d", code)
		}

		req, _ := http.NewRequest(http.MethodPost, a.url+path, strings.NewReader(`{"recipient":"`+buyer.Recipient().String()+`"}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pkg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".tar.age") {
			t.Fatalf("export: %d %s", resp.StatusCode, resp.Header)
		}
		r, err := age.Decrypt(bytes.NewReader(pkg), buyer)
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(r)
		if !bytes.Contains(plain, []byte("+8613812345678")) || bytes.Contains(plain, []byte("+8613912345678")) || bytes.Contains(plain, []byte("张三")) {
			t.Error("the package does not hold exactly the consenting customer's phone")
		}
	})
}
