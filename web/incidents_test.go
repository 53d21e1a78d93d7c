package web_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

func TestIncidentAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, auditor, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Auditor), a.tokenFor(staff.Agent)
		a.importAndWait(admin, []byte("姓名,手机\n欧阳泄露,13912340001\n司马泄露,13912340002\n"))
		all, _, err := a.customers.FindCustomers(ctx, customers.Filter{Limit: 10})
		if err != nil || len(all) != 2 {
			t.Fatal(err)
		}
		body := `{"title":"导出文件误发","data_categories":["name","phone"],"cause":"误发邮件","measures":"已要求删除",
			"contact":"dpo@jia.example.com","occurred_at":"2026-05-01T08:00:00Z","discovered_at":"2026-05-01T10:00:00Z",
			"customer_ids":["` + all[0].ID + `","` + all[1].ID + `"]}`
		if code := a.postJSON("/api/v1/incidents", agent, body, nil); code != http.StatusForbidden {
			t.Errorf("agent recording an incident: %d", code)
		}
		var in struct {
			ID       string `json:"id"`
			Affected int    `json:"affected"`
		}
		if code := a.postJSON("/api/v1/incidents", admin, body, &in); code != http.StatusCreated || in.Affected != 2 {
			t.Fatalf("record: %d %+v", code, in)
		}
		if code := a.postJSON("/api/v1/incidents/"+in.ID+"/events", admin, `{"kind":"measure","note":"对方已书面确认删除"}`, nil); code != http.StatusNoContent {
			t.Errorf("event: %d", code)
		}
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/incidents/"+in.ID+"/report", nil)
		req.Header.Set("Authorization", "Bearer "+auditor)
		r2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(r2.Body)
		r2.Body.Close()
		if r2.StatusCode != http.StatusOK {
			t.Fatalf("report: %d", r2.StatusCode)
		}
		html := string(page)
		if !strings.Contains(html, "对方已书面确认删除") || !strings.Contains(html, "<td>2</td>") {
			t.Errorf("report lacks the timeline or the count:\n%s", html)
		}
		for _, pii := range []string{"欧阳泄露", "13912340001", all[0].ID} {
			if strings.Contains(html, pii) {
				t.Errorf("regulator report contains %q", pii)
			}
		}

		// The notice to the affected customers is a draft campaign of exactly them.
		a.importAndWait(admin, []byte("姓名,手机\n无关客户,13912340003\n"))
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		tr := &transfers.Transfer{SellerName: "甲", BuyerName: "乙", BuyerContact: "400", EffectiveDate: "2026-03-01",
			Purposes: []string{"营销"}, DataCategories: []string{"name"}, RetentionDays: 30}
		if err := a.transfers.CreateTransfer(ctx, tr, "test"); err != nil {
			t.Fatal(err)
		}
		notice := "/api/v1/incidents/" + in.ID + "/notice"
		var e apiError
		if code := a.postJSON(notice, agent, `{"transfer_id":"`+tr.ID+`","channels":["devbox"]}`, nil); code != http.StatusForbidden {
			t.Errorf("agent drafting the notice: %d", code)
		}
		if code := a.postJSON(notice, admin, `{"channels":["devbox"]}`, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "transfer_id") {
			t.Errorf("notice without transfer: %d %+v", code, e)
		}
		if code := a.postJSON("/api/v1/incidents/01J0000000000000000000000/notice", admin, `{"transfer_id":"`+tr.ID+`","channels":["devbox"]}`, nil); code != http.StatusNotFound {
			t.Errorf("notice of an unknown incident: %d", code)
		}
		var cp struct {
			ID, Kind, Status string
		}
		if code := a.postJSON(notice, admin, `{"transfer_id":"`+tr.ID+`","channels":["devbox"]}`, &cp); code != http.StatusCreated ||
			cp.Kind != "incident_notice" || cp.Status != "draft" {
			t.Fatalf("notice: %d %+v", code, cp)
		}
		var audience string
		a.db.QueryRowContext(ctx, `SELECT COUNT(*) || ',' || MIN(customer_id) || ',' || MAX(customer_id) FROM campaign_customers WHERE campaign_id = $1`, cp.ID).Scan(&audience)
		if first, last := min(all[0].ID, all[1].ID), max(all[0].ID, all[1].ID); audience != "2,"+first+","+last {
			t.Errorf("notice audience %q, want the 2 affected of 3 customers", audience)
		}
		var got struct {
			NoticeCampaign string `json:"notice_campaign"`
			Timeline       []struct{ Kind string }
		}
		if code := a.getJSON("/api/v1/incidents/"+in.ID, auditor, &got); code != http.StatusOK || got.NoticeCampaign != cp.ID ||
			got.Timeline[len(got.Timeline)-1].Kind != "notice" {
			t.Errorf("incident after notice: %d %+v", code, got)
		}
		if code := a.postJSON(notice, admin, `{"transfer_id":"`+tr.ID+`","channels":["devbox"]}`, &e); code != http.StatusConflict {
			t.Errorf("second notice: %d", code)
		}
	})
}

func TestAssessmentAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, marketer := a.tokenFor(staff.Admin), a.tokenFor(staff.Marketer)
		tr := &transfers.Transfer{SellerName: "甲", BuyerName: "乙", BuyerContact: "400", EffectiveDate: "2026-03-01",
			Purposes: []string{"营销"}, DataCategories: []string{"name"}, RetentionDays: 30}
		if err := a.transfers.CreateTransfer(ctx, tr, "test"); err != nil {
			t.Fatal(err)
		}
		var as struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		}
		body := `{"transfer_id":"` + tr.ID + `","activity":"campaign","purpose":"营销","necessity":"告知新联系人","risks":"打扰","measures":"可随时退订"}`
		if code := a.postJSON("/api/v1/assessments", marketer, body, &as); code != http.StatusCreated || as.Status != "draft" {
			t.Fatalf("create: %d %+v", code, as)
		}
		if code := a.postJSON("/api/v1/assessments/"+as.ID+"/approve", marketer, ``, nil); code != http.StatusForbidden {
			t.Errorf("marketer approving: %d", code)
		}
		if code := a.postJSON("/api/v1/assessments/"+as.ID+"/approve", admin, ``, nil); code != http.StatusNoContent {
			t.Errorf("admin approving: %d", code)
		}
		var list struct {
			Data []struct{ Status string } `json:"data"`
		}
		if code := a.getJSON("/api/v1/transfers/"+tr.ID+"/assessments", marketer, &list); code != http.StatusOK || len(list.Data) != 1 || list.Data[0].Status != "approved" {
			t.Errorf("list: %d %+v", code, list)
		}
	})
}
