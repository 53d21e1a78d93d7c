package web_test

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
)

type correctionResp struct {
	ID       string            `json:"id"`
	Status   string            `json:"status"`
	Fields   []string          `json:"fields"`
	Current  map[string]string `json:"current"`
	Proposed map[string]string `json:"proposed"`
	Reason   string            `json:"reason"`
	Masked   bool              `json:"masked"`
}

// TestCorrectionReviewAndErasureOverAPI drives a phone correction from the
// customer's side (the code goes through the devbox, as in embedded mode)
// to staff approval, then the customer's data and their erasure.
func TestCorrectionReviewAndErasureOverAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, agent, marketer := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent), a.tokenFor(staff.Marketer)
		a.importAndWait(admin, []byte("姓名,手机,邮箱\n张三,13812345678,zhang@example.com\n李四,13900001111,li@example.com\n"))
		list, _, err := a.customers.FindCustomers(ctx, customers.Filter{Phone: "13812345678"})
		if err != nil || len(list) != 1 {
			t.Fatal(list, err)
		}
		id := list[0].ID

		send := rights.ChannelSender(map[channels.Name]channels.Channel{channels.Devbox: a.devbox}, "")
		r, err := a.rights.RequestCorrection(ctx, rights.CorrectionInput{CustomerID: id, Source: customers.SourcePortal,
			Actor: "customer:" + id, Proposed: rights.CorrectionFields{Phone: "13700002222"}}, send)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := a.devbox.Find(ctx, "", 10)
		if err != nil || len(msgs) != 1 || msgs[0].To.Phone != "+8613700002222" {
			t.Fatalf("devbox = %+v, %v", msgs, err)
		}
		code := regexp.MustCompile(`\d{6}`).FindString(msgs[0].Text)
		if strings.Contains(a.logs.String(), code) {
			t.Error("the code is in the log")
		}
		if _, err := a.rights.ConfirmCorrection(ctx, id, r.ID, code); err != nil {
			t.Fatal(err)
		}

		var page struct {
			Data []correctionResp `json:"data"`
		}
		if st := a.getJSON("/api/v1/corrections", marketer, &page); st != http.StatusForbidden {
			t.Errorf("marketer lists corrections: %d", st)
		}
		if st := a.getJSON("/api/v1/corrections?status=pending", agent, &page); st != http.StatusOK || len(page.Data) != 1 {
			t.Fatalf("list = %d, %+v", st, page)
		}
		if got := page.Data[0]; !got.Masked || got.Proposed["phone"] != "137****2222" || got.Current["phone"] != "138****5678" {
			t.Errorf("listed = %+v", got)
		}
		if st := a.getJSON("/api/v1/corrections?status=bogus", agent, nil); st != http.StatusBadRequest {
			t.Errorf("bad status filter: %d", st)
		}
		var rv correctionResp
		if st := a.postJSON("/api/v1/corrections/"+r.ID+"/reveal", agent, `{"reason":"核对"}`, &rv); st != http.StatusOK || rv.Proposed["phone"] != "+8613700002222" {
			t.Errorf("reveal = %d, %+v", st, rv)
		}
		var ap correctionResp
		for range 2 {
			if st := a.postJSON("/api/v1/corrections/"+r.ID+"/approve", agent, ``, &ap); st != http.StatusOK || ap.Status != "approved" {
				t.Fatalf("approve = %d, %+v", st, ap)
			}
		}
		if st := a.postJSON("/api/v1/corrections/"+r.ID+"/reject", agent, `{"reason":"x"}`, nil); st != http.StatusConflict {
			t.Errorf("reject after approve: %d", st)
		}
		if got, _ := a.customers.MatchContact(ctx, "", "+8613700002222", ""); got != id {
			t.Error("the approved phone does not find the customer")
		}

		// My data, as staff give it on request.
		if st := a.getJSON("/api/v1/customers/"+id+"/data", marketer, nil); st != http.StatusForbidden {
			t.Errorf("marketer reads data: %d", st)
		}
		var data struct {
			Customer    map[string]any   `json:"customer"`
			Corrections []map[string]any `json:"corrections"`
		}
		if st := a.getJSON("/api/v1/customers/"+id+"/data", agent, &data); st != http.StatusOK || data.Customer["phone"] != "+8613700002222" || len(data.Corrections) != 1 {
			t.Fatalf("data = %d, %+v", st, data)
		}
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/customers/"+id+"/data?format=csv", nil)
		req.Header.Set("Authorization", "Bearer "+agent)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("csv = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll(); err != nil || len(rows) < 5 || strings.Contains(string(body), "李四") {
			t.Errorf("csv rows = %d, %v", len(rows), err)
		}

		// Erasure: admin only, with a reason, idempotent.
		if st := a.postJSON("/api/v1/customers/"+id+"/erase", agent, `{"reason":"客户要求"}`, nil); st != http.StatusForbidden {
			t.Errorf("agent erases: %d", st)
		}
		if st := a.postJSON("/api/v1/customers/"+id+"/erase", admin, `{"reason":""}`, nil); st != http.StatusBadRequest {
			t.Errorf("erase without reason: %d", st)
		}
		var refusal struct {
			Decision string `json:"decision"`
			Reason   string `json:"reason"`
		}
		if st := a.postJSON("/api/v1/customers/"+id+"/erase/refuse", admin, `{"reason":"账款未结清"}`, &refusal); st != http.StatusCreated || refusal.Decision != "refused" {
			t.Errorf("refuse = %d, %+v", st, refusal)
		}
		var erased struct {
			Status  string `json:"status"`
			Changed bool   `json:"changed"`
		}
		for i, want := range []bool{true, false} {
			if st := a.postJSON("/api/v1/customers/"+id+"/erase", admin, `{"reason":"客户要求删除"}`, &erased); st != http.StatusOK || erased.Changed != want {
				t.Errorf("erase %d = %d, %+v", i, st, erased)
			}
		}
		var cu map[string]any
		if st := a.getJSON("/api/v1/customers/"+id, agent, &cu); st != http.StatusOK || cu["status"] != "erased" || cu["name"] != "" {
			t.Errorf("erased customer = %d, %v", st, cu)
		}
		if st := a.postJSON("/api/v1/customers/01J00000000000000000000000/erase", admin, `{"reason":"x"}`, nil); st != http.StatusNotFound {
			t.Errorf("erase unknown: %d", st)
		}
	})
}
