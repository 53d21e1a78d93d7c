package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/staff"
)

func TestDestructionOverAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, auditor, marketer := a.tokenFor(staff.Admin), a.tokenFor(staff.Auditor), a.tokenFor(staff.Marketer)
		a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n"))
		var tr struct {
			ID string `json:"id"`
		}
		body := `{"seller_name":"甲","buyer_name":"乙","buyer_contact":"400","effective_date":"2026-01-01","purposes":["p"],"data_categories":["phone"],"retention_days":30}`
		if code := a.postJSON("/api/v1/transfers", admin, body, &tr); code != http.StatusCreated {
			t.Fatalf("transfer: %d", code)
		}
		if code := a.postJSON("/api/v1/transfers/"+tr.ID+"/destruction-plans", marketer, `{}`, nil); code != http.StatusForbidden {
			t.Errorf("marketer request: %d", code)
		}
		var plan struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		if code := a.postJSON("/api/v1/transfers/"+tr.ID+"/destruction-plans", admin, `{}`, &plan); code != http.StatusCreated || plan.Status != "requested" {
			t.Fatalf("request: %d %+v", code, plan)
		}
		base := "/api/v1/destruction-plans/" + plan.ID
		var e apiError
		if code := a.postJSON(base+"/run", admin, ``, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "approval") {
			t.Errorf("run before approval: %d %+v", code, e)
		}
		if code := a.postJSON(base+"/approve", admin, ``, nil); code != http.StatusForbidden {
			t.Errorf("admin approve: %d", code)
		}
		if code := a.postJSON(base+"/approve", auditor, ``, &plan); code != http.StatusOK || plan.Status != "approved" {
			t.Fatalf("approve: %d %+v", code, plan)
		}
		var out struct {
			Verified bool   `json:"verified"`
			Report   string `json:"report"`
		}
		if code := a.postJSON(base+"/run", admin, ``, &out); code != http.StatusOK || !out.Verified {
			t.Fatalf("run: %d %+v", code, out)
		}
		req, _ := http.NewRequest(http.MethodGet, a.url+out.Report, nil)
		req.Header.Set("Authorization", "Bearer "+auditor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		html, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(html), "Destruction report") {
			t.Errorf("report: %d", resp.StatusCode)
		}
		if code := a.getJSON(base, auditor, &plan); code != http.StatusOK || plan.Status != "completed" {
			t.Errorf("view: %d %+v", code, plan)
		}
	})
}
