package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
)

// A staff member without a current acceptance gets a 403 that says how
// to accept; after accepting, access works; a new version blocks again.
func TestAgreementGatesCustomerData(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent)
		if code := a.getJSON("/api/v1/customers", agent, nil); code != http.StatusOK {
			t.Fatalf("no agreement published: %d", code)
		}
		var v1 struct{ Hash string }
		if code := a.postJSON("/api/v1/agreements", agent, `{"text_zh":"保密","text_en":"Confidential"}`, nil); code != http.StatusForbidden {
			t.Errorf("an agent publishing: %d", code)
		}
		if code := a.postJSON("/api/v1/agreements", admin, `{"text_zh":"我承诺保密。","text_en":"I keep it confidential."}`, &v1); code != http.StatusCreated {
			t.Fatalf("publish: %d", code)
		}
		var e apiError
		if code := a.getJSON("/api/v1/customers", agent, &e); code != http.StatusForbidden || !strings.Contains(e.Error.Message, "/api/v1/agreement/accept") {
			t.Fatalf("before accepting: %d %+v", code, e)
		}
		// Masked-free routes without personal data stay open.
		if code := a.getJSON("/api/v1/templates", agent, nil); code != http.StatusOK {
			t.Errorf("templates blocked too: %d", code)
		}
		var view struct {
			Agreement struct{ Hash string } `json:"agreement"`
			Granted   bool                  `json:"access_granted"`
		}
		if code := a.getJSON("/api/v1/agreement", agent, &view); code != http.StatusOK || view.Granted || view.Agreement.Hash != v1.Hash {
			t.Fatalf("agreement view: %d %+v", code, view)
		}
		if code := a.postJSON("/api/v1/agreement/accept", agent, `{"hash":"`+v1.Hash+`"}`, nil); code != http.StatusNoContent {
			t.Fatalf("accept: %d", code)
		}
		if code := a.getJSON("/api/v1/customers", agent, nil); code != http.StatusOK {
			t.Fatalf("after accepting: %d", code)
		}
		var v2 struct{ Hash string }
		a.postJSON("/api/v1/agreements", admin, `{"text_zh":"第二版。","text_en":"Version two."}`, &v2)
		if code := a.getJSON("/api/v1/customers", agent, nil); code != http.StatusForbidden {
			t.Fatalf("after a new version: %d", code)
		}
		if code := a.postJSON("/api/v1/agreement/accept", agent, `{"hash":"`+v1.Hash+`"}`, &e); code != http.StatusConflict {
			t.Errorf("accepting the old version: %d", code)
		}
	})
}

func TestTrainingAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent, auditor := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent), a.tokenFor(staff.Auditor)
		var mod struct {
			ID        string `json:"id"`
			Questions []struct {
				Answer *int `json:"answer"`
			} `json:"questions"`
		}
		body := `{"role":"agent","title":"保密基础","body":"只在需要时查看。","pass_score":100,
			"questions":[{"q":"可以外发客户名单吗？","options":["可以","不可以"],"answer":1}]}`
		if code := a.postJSON("/api/v1/training/modules", admin, body, &mod); code != http.StatusCreated || mod.Questions[0].Answer != nil {
			t.Fatalf("create: %d, answer shown: %+v", code, mod)
		}
		if code := a.getJSON("/api/v1/customers", agent, nil); code != http.StatusForbidden {
			t.Fatalf("untrained agent: %d", code)
		}
		var res struct{ Passed bool }
		a.postJSON("/api/v1/training/modules/"+mod.ID+"/attempts", agent, `{"answers":[0]}`, &res)
		if res.Passed || a.getJSON("/api/v1/customers", agent, nil) != http.StatusForbidden {
			t.Fatal("a failed attempt lets the agent in")
		}
		a.postJSON("/api/v1/training/modules/"+mod.ID+"/attempts", agent, `{"answers":[1]}`, &res)
		if !res.Passed || a.getJSON("/api/v1/customers", agent, nil) != http.StatusOK {
			t.Fatal("a passed attempt does not let the agent in")
		}
		var results struct {
			Results []struct{ Passed bool } `json:"data"`
		}
		if code := a.getJSON("/api/v1/training/results", auditor, &results); code != http.StatusOK || len(results.Results) != 2 {
			t.Errorf("auditor's view: %d %+v", code, results)
		}
		if code := a.getJSON("/api/v1/training/results", agent, nil); code != http.StatusForbidden {
			t.Errorf("agent reading results: %d", code)
		}
	})
}

// Expired third-party accounts' tokens stop working.
func TestExpiredThirdPartyToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		soon := time.Now().Add(time.Minute)
		if err := a.staff.CreateMember(ctx, &staff.Member{Email: "agency@example.com", Role: staff.Marketer, ExpiresAt: &soon}, "", "test"); err != nil {
			t.Fatal(err)
		}
		token, err := a.staff.CreateAPIToken(ctx, "agency@example.com", "agency", "test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.db.ExecContext(ctx, `UPDATE staff SET expires_at = $1 WHERE email = $2`, time.Now().Add(-time.Minute).UTC(), "agency@example.com"); err != nil {
			t.Fatal(err)
		}
		if code := a.getJSON("/api/v1/me", token, nil); code != http.StatusUnauthorized {
			t.Errorf("expired account's token: %d", code)
		}
	})
}

func TestAccessReviewAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent, auditor := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent), a.tokenFor(staff.Auditor)
		var r struct {
			ID    string `json:"id"`
			Items []struct {
				StaffID  string `json:"staff_id"`
				Role     string `json:"role"`
				Decision string `json:"decision"`
			} `json:"items"`
		}
		if code := a.postJSON("/api/v1/access-reviews", admin, ``, &r); code != http.StatusCreated || len(r.Items) != 3 {
			t.Fatalf("start: %d %+v", code, r)
		}
		var agentID string
		for _, it := range r.Items {
			if it.Role == "agent" {
				agentID = it.StaffID
			}
		}
		if code := a.postJSON("/api/v1/access-reviews/"+r.ID+"/items/"+agentID, admin, `{"decision":"revoked","note":"left"}`, nil); code != http.StatusNoContent {
			t.Fatalf("revoke: %d", code)
		}
		if code := a.getJSON("/api/v1/me", agent, nil); code != http.StatusUnauthorized {
			t.Errorf("revoked agent's token: %d", code)
		}
		resp := a.do(http.MethodGet, "/api/v1/access-reviews/"+r.ID+"?format=csv", auditor, "", nil, nil)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
			t.Errorf("csv export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var rep struct {
			Entries []struct{ Action string } `json:"entries"`
		}
		if code := a.getJSON("/api/v1/access-report?from=2020-01-01T00:00:00Z", auditor, &rep); code != http.StatusOK {
			t.Errorf("access report: %d", code)
		}
		if code := a.getJSON("/api/v1/access-report?from=yesterday", auditor, nil); code != http.StatusBadRequest {
			t.Errorf("a bad time: %d", code)
		}
	})
}

// The public report holds no personal data and suppresses small counts.
func TestPublicReportHasNoPersonalData(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin := a.tokenFor(staff.Admin)
		var rows []string
		for i := range 7 {
			rows = append(rows, fmt.Sprintf("欧阳独特%d,1391234%04d,unique.person%d@example.com,独一无二贸易%d,乌鲁木齐", i, i, i, i))
		}
		a.importAndWait(admin, []byte("姓名,手机,邮箱,公司,地区\n"+strings.Join(rows, "\n")+"\n"))
		tr := &transfers.Transfer{SellerName: "甲公司", BuyerName: "乙公司", BuyerContact: "400-800-1234", EffectiveDate: "2026-03-01",
			Purposes: []string{"售后服务"}, DataCategories: []string{"name", "phone"}, RetentionDays: 365}
		if err := a.transfers.CreateTransfer(ctx, tr, "test"); err != nil {
			t.Fatal(err)
		}
		all, _, err := a.customers.FindCustomers(ctx, customers.Filter{Limit: 100})
		if err != nil || len(all) != 7 {
			t.Fatalf("customers: %d, %v", len(all), err)
		}
		for i, c := range all {
			decision := customers.ConsentGranted
			if i >= 6 {
				decision = customers.ConsentDeclined // one: suppressed
			}
			if _, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: c.ID, TransferID: tr.ID, Purpose: "售后服务",
				Decision: decision, Source: customers.SourceStaff, Actor: "staff:test"}}); err != nil {
				t.Fatal(err)
			}
		}
		// Rights, complaints, a handover and an incident, as the public sees them.
		now := a.db.Now()
		for i, c := range all[:5] {
			if _, err := a.db.ExecContext(ctx, `INSERT INTO correction_requests (id, customer_id, status, fields, proposed_enc, source,
				decided_by, decided_at, created_at, updated_at) VALUES ($1, $2, 'approved', 'name', '', 'portal', 'staff:x', $3, $4, $3)`,
				fmt.Sprintf("cr%d", i), c.ID, now, now.Add(-2*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		for i, status := range []string{"resolved", "open"} {
			var resolved any
			if status == "resolved" {
				resolved = now
			}
			if _, err := a.db.ExecContext(ctx, `INSERT INTO tickets (id, customer_id, status, priority, category, first_response_due,
				resolution_due, sla_due, created_at, updated_at, resolved_at) VALUES ($1, $2, $3, 'normal', 'complaint', $4, $4, $4, $4, $4, $5)`,
				fmt.Sprintf("tk%d", i), all[i].ID, status, now, resolved); err != nil {
				t.Fatal(err)
			}
		}
		err = a.db.InTx(ctx, func(tx *database.Tx) error {
			for _, e := range []audit.Entry{
				{Actor: "cli", Action: "transfer.export.start", ObjectType: "transfer", ObjectID: tr.ID, Detail: `{"export":"E1","fields":["name","phone"]}`},
				{Actor: "cli", Action: "transfer.export", ObjectType: "transfer", ObjectID: tr.ID, Detail: `{"export":"E1","customers":6}`},
			} {
				if err := audit.Record(ctx, tx, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := incidents.NewStore(a.db).Record(ctx, &incidents.Incident{Title: "误发", DataCategories: []string{"name"}, Cause: "c",
			Measures: "m", Contact: "dpo", OccurredAt: now, DiscoveredAt: now}, []string{all[0].ID}, "staff:x"); err != nil {
			t.Fatal(err)
		}

		var pub struct{ Slug, URL string }
		if code := a.postJSON("/api/v1/transfers/"+tr.ID+"/public-report", admin, ``, &pub); code != http.StatusOK || pub.Slug == "" {
			t.Fatalf("enable: %d %+v", code, pub)
		}
		for _, lang := range []string{"", "?lang=en"} {
			resp, err := http.Get(a.url + "/transparency/" + pub.Slug + lang)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			html := string(page)
			if resp.StatusCode != http.StatusOK || !strings.Contains(html, "乙公司") {
				t.Fatalf("report%s: %d\n%s", lang, resp.StatusCode, html)
			}
			for _, c := range all {
				for _, pii := range []string{c.Name, c.Phone, c.Phone[3:], c.Email, c.Company, c.ID} {
					if strings.Contains(html, pii) {
						t.Errorf("report%s contains personal data %q", lang, pii)
					}
				}
			}
			if !strings.Contains(html, ">6<") || !strings.Contains(html, "&lt;5") {
				t.Errorf("report%s: want 6 granted and the single decline suppressed:\n%s", lang, html)
			}
			for _, want := range []string{">5<", ">2.0 h<", "name、phone"} {
				if !strings.Contains(html, want) {
					t.Errorf("report%s lacks %q:\n%s", lang, want, html)
				}
			}
			// One decline, two complaints, one resolved, one package, one open incident.
			if n := strings.Count(html, "&lt;5</td>"); n != 5 {
				t.Errorf("report%s shows %d suppressed figures, want 5", lang, n)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("CSP = %q", csp)
			}
		}
		if resp, _ := http.Get(a.url + "/transparency/nosuchreport"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("unknown slug: %d", resp.StatusCode)
		}
	})
}
