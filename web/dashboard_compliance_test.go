package web_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/pquerna/otp/totp"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// complianceFixture is an installation with a transfer that took effect
// long ago, two imported customers (one consenting), the default templates, and a signed-in member of each role
// (two admins, for the second-person rules).
type complianceFixture struct {
	a                                     *app
	transfer, token                       string
	customerIDs                           []string
	admin, admin2, auditor, marketer, agt *webClient
	adminMember, auditorMember            *staff.Member
}

func newComplianceFixture(t *testing.T, a *app) *complianceFixture {
	t.Helper()
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	var tr struct{ ID string }
	if code := a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name","phone"],"retention_days":90}`, &tr); code != http.StatusCreated {
		t.Fatalf("transfer: %d", code)
	}
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, err := a.customers.FindCustomers(ctx, customers.Filter{})
	if err != nil || len(list) != 2 {
		t.Fatalf("customers: %d %v", len(list), err)
	}
	f := &complianceFixture{a: a, transfer: tr.ID, token: token}
	for _, c := range list {
		f.customerIDs = append(f.customerIDs, c.ID)
	}
	if _, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: list[0].ID, TransferID: tr.ID,
		Purpose: "订单履行", Decision: customers.ConsentGranted, Source: customers.SourceStaff, Actor: "staff:x"}}); err != nil {
		t.Fatal(err)
	}
	login := func(role staff.Role, name string) (*webClient, *staff.Member) {
		m, email := a.staffMember(role, name)
		w := a.newWebClient()
		w.login(email, testPassword)
		return w, m
	}
	f.admin, f.adminMember = login(staff.Admin, "dpo")
	f.admin2, _ = login(staff.Admin, "dpo2")
	f.auditor, f.auditorMember = login(staff.Auditor, "auditor")
	f.marketer, _ = login(staff.Marketer, "marketer")
	f.agt, _ = login(staff.Agent, "agent")
	return f
}

// expect returns a check that fails the test unless a response has the
// status want, and returns its body: expect(t, step, 200)(w.get(path)).
func expect(t *testing.T, step string, want int) func(*http.Response, string) string {
	return func(resp *http.Response, body string) string {
		t.Helper()
		if resp.StatusCode != want {
			t.Fatalf("%s: %d, want %d\n%s", step, resp.StatusCode, want, body)
		}
		return body
	}
}

var idInPath = regexp.MustCompile(`/(?:incidents|destruction|assessments)/([0-9A-Z]{26})`)

// TestCompliancePagesRoleMatrix: each page opens for the roles whose
// permission it needs and answers 403 to the rest; the navigation links
// the compliance pages only for the roles that may open them.
func TestCompliancePagesRoleMatrix(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		q := "?transfer=" + f.transfer
		pages := []struct {
			path string
			ok   map[string]bool
		}{
			{"/compliance", map[string]bool{"admin": true, "auditor": true, "marketer": true}},
			{"/incidents", map[string]bool{"admin": true, "auditor": true}},
			{"/incidents/new", map[string]bool{"admin": true}},
			{"/assessments" + q, map[string]bool{"admin": true, "auditor": true, "marketer": true, "agent": true}},
			{"/export" + q, map[string]bool{"admin": true}},
			{"/export/evidence" + q, map[string]bool{"admin": true}},
			{"/destruction" + q, map[string]bool{"admin": true, "auditor": true}},
			{"/governance/training", map[string]bool{"admin": true, "auditor": true}},
			{"/governance/agreements", map[string]bool{"admin": true, "auditor": true}},
		}
		clients := map[string]*webClient{"admin": f.admin, "auditor": f.auditor, "marketer": f.marketer, "agent": f.agt}
		for _, p := range pages {
			for role, w := range clients {
				resp, body := w.get(p.path)
				want := http.StatusForbidden
				if p.ok[role] {
					want = http.StatusOK
				}
				if resp.StatusCode != want {
					t.Errorf("%s as %s: %d, want %d\n%.300s", p.path, role, resp.StatusCode, want, body)
				}
			}
		}
		for role, w := range clients {
			_, body := w.get("/account")
			if has := strings.Contains(body, `href="/compliance"`); has != (role != "agent") {
				t.Errorf("navigation for %s links the compliance pages: %t", role, has)
			}
		}
	})
}

// TestComplianceFormsNeedCSRF: every compliance form refuses a post
// without the session's token and writes nothing.
func TestComplianceFormsNeedCSRF(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		f.admin.get("/incidents/new")
		for _, path := range []string{"/incidents", "/assessments", "/export/dry-run", "/export", "/destruction",
			"/governance/training", "/governance/agreements/confirm"} {
			resp, _ := f.admin.post(path, url.Values{"csrf": {"forged"}, "transfer_id": {f.transfer}, "title": {"x"}})
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s with a forged token: %d", path, resp.StatusCode)
			}
		}
		var n int
		a.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'incident.%' OR action LIKE 'destruction.%'
			OR action LIKE 'training.%' OR action LIKE 'assessment.%' OR action LIKE 'transfer.export%'`).Scan(&n)
		if n != 0 {
			t.Errorf("%d entries written by forged posts", n)
		}
	})
}

// TestIncidentPages: record (bad input shows the reason in the reader's
// language and records nothing), add to the timeline, draft the notice
// (which says who it cannot reach), read and download the report.
func TestIncidentPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		w := f.admin
		w.get("/incidents/new")
		form := url.Values{"title": {"客服电脑感染木马"}, "cause": {"钓鱼邮件"}, "measures": {"隔离电脑，重置密码"}, "contact": {"dpo@example.com"},
			"occurred_at": {"2026-03-01T09:00"}, "discovered_at": {"2026-03-01T10:30"}, "customers": {f.customerIDs[0] + "\n139 0000 1111"}}
		body := expect(t, "no categories", http.StatusBadRequest)(w.post("/incidents", form))
		if !strings.Contains(body, "请勾选涉及的信息种类") || !strings.Contains(body, "客服电脑感染木马") {
			t.Fatalf("error not shown in Chinese with the form kept:\n%s", body)
		}
		form["data_categories"] = []string{"name", "phone"}
		form.Set("customers", "13800000000")
		body = expect(t, "unknown phone", http.StatusBadRequest)(w.post("/incidents", form))
		if !strings.Contains(body, "找不到客户") || !strings.Contains(body, "13800000000") {
			t.Fatalf("unknown customer:\n%s", body)
		}
		form.Set("customers", f.customerIDs[0]+"\n139 0000 1111")
		form.Set("discovered_at", "2026-02-01T10:30")
		expect(t, "discovery before occurrence", http.StatusBadRequest)(w.post("/incidents", form))
		if list, _ := a.incidentsCount(); list != 0 {
			t.Fatalf("%d incidents recorded by failed forms", list)
		}
		form.Set("discovered_at", "2026-03-01T10:30")
		resp, body := w.post("/incidents", form)
		expect(t, "record", http.StatusSeeOther)(resp, body)
		loc := resp.Header.Get("Location")
		id := idInPath.FindStringSubmatch(loc)[1]
		body = expect(t, "incident page", http.StatusOK)(w.get(loc))
		if !strings.Contains(body, `id="incident-affected">2<`) || !strings.Contains(body, "安全事件已记录") || !strings.Contains(body, "2026-03-01 10:30") {
			t.Fatalf("incident page:\n%s", body)
		}
		if len(a.auditActions("incident.customers_lookup")) == 0 {
			t.Error("the phone look-up is not audited")
		}

		// The auditor reads, but may not write.
		f.auditor.get("/incidents/" + id)
		expect(t, "auditor adds an event", http.StatusForbidden)(f.auditor.post("/incidents/"+id+"/events", url.Values{"kind": {"measure"}, "note": {"x"}}))
		body = expect(t, "empty note", http.StatusBadRequest)(w.post("/incidents/"+id+"/events", url.Values{"kind": {"measure"}, "note": {" "}}))
		if !strings.Contains(body, "请填写时间线说明") {
			t.Fatalf("empty note:\n%s", body)
		}
		expect(t, "measure", http.StatusSeeOther)(w.post("/incidents/"+id+"/events", url.Values{"kind": {"measure"}, "note": {"已通知网络安全部门"}}))
		expect(t, "status", http.StatusSeeOther)(w.post("/incidents/"+id+"/events", url.Values{"kind": {"status"}, "note": {"contained"}}))
		body = expect(t, "timeline", http.StatusOK)(w.get("/incidents/" + id))
		if !strings.Contains(body, "已通知网络安全部门") || !strings.Contains(body, `id="incident-status">已控制<`) {
			t.Fatalf("timeline:\n%s", body)
		}

		// The notice: a channel is required; then the draft names who it
		// cannot reach (a customer erased since).
		if _, err := a.rights.EraseCustomer(context.Background(), f.customerIDs[1], "staff:x", "客户要求删除"); err != nil {
			t.Fatal(err)
		}
		body = expect(t, "notice without channel", http.StatusBadRequest)(w.post("/incidents/"+id+"/notice", url.Values{"transfer_id": {f.transfer}, "locale": {"zh-CN"}}))
		if !strings.Contains(body, "请至少勾选一个渠道") {
			t.Fatalf("notice without channel:\n%s", body)
		}
		expect(t, "draft notice", http.StatusSeeOther)(w.post("/incidents/"+id+"/notice", url.Values{"transfer_id": {f.transfer}, "channels": {"devbox"}, "locale": {"zh-CN"}}))
		body = expect(t, "incident with notice", http.StatusOK)(w.get("/incidents/" + id))
		if !strings.Contains(body, `id="unreached"`) || !strings.Contains(body, "开发发件箱") || !strings.Contains(body, "1 / 2") || !strings.Contains(body, `id="send-notice"`) {
			t.Fatalf("notice reach:\n%s", body)
		}
		body = expect(t, "second notice", http.StatusConflict)(w.post("/incidents/"+id+"/notice", url.Values{"transfer_id": {f.transfer}, "channels": {"devbox"}}))
		if !strings.Contains(body, "该事件已有告知") {
			t.Fatalf("second notice:\n%s", body)
		}

		resp, body = f.auditor.get("/incidents/" + id + "/report")
		expect(t, "report", http.StatusOK)(resp, body)
		if !strings.Contains(body, "客服电脑感染木马") || strings.Contains(body, "139") {
			t.Fatalf("report:\n%s", body)
		}
		resp, _ = f.auditor.get("/incidents/" + id + "/report?download=1")
		if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("download: %v", resp.Header)
		}
		for _, action := range []string{"incident.recorded", "incident.measure", "incident.status", "incident.notice"} {
			if len(a.auditActions(action)) == 0 {
				t.Errorf("%s is not audited", action)
			}
		}
	})
}

func (a *app) incidentsCount() (int, error) {
	var n int
	err := a.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM incidents`).Scan(&n)
	return n, err
}

// TestAssessmentPagesSecondPerson: the author of an assessment sees that
// another admin must decide it, and is refused if they try; another admin
// approves it. A marketer requests but may not decide.
func TestAssessmentPagesSecondPerson(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		page := "/assessments?transfer=" + f.transfer
		f.admin.get(page)
		form := url.Values{"transfer_id": {f.transfer}, "activity": {"export"}, "purpose": {"订单履行"}, "necessity": {"买方继续履约"}, "risks": {" "}, "measures": {"加密"}}
		body := expect(t, "missing risks", http.StatusBadRequest)(f.admin.post("/assessments", form))
		if !strings.Contains(body, "请填写目的、必要性、风险和保护措施") || !strings.Contains(body, "买方继续履约") {
			t.Fatalf("missing risks:\n%s", body)
		}
		form.Set("risks", "传输泄露")
		form.Set("purpose", "营销")
		body = expect(t, "foreign purpose", http.StatusBadRequest)(f.admin.post("/assessments", form))
		if !strings.Contains(body, "该目的不在本次转让的目的之中") {
			t.Fatalf("foreign purpose:\n%s", body)
		}
		form.Set("purpose", "订单履行")
		expect(t, "request", http.StatusSeeOther)(f.admin.post("/assessments", form))
		body = expect(t, "own view", http.StatusOK)(f.admin.get(page))
		id := between(body, `id="assessment-`, `"`)
		if id == "" || !strings.Contains(body, `id="own-assessment"`) || strings.Contains(body, `id="approve-`) {
			t.Fatalf("the author's view:\n%s", body)
		}
		body = expect(t, "self approval", http.StatusForbidden)(f.admin.post("/assessments/"+id+"/approve", url.Values{"transfer_id": {f.transfer}}))
		if !strings.Contains(body, "这份评估是您撰写的，需由另一位同事审批") {
			t.Fatalf("self approval:\n%s", body)
		}
		f.marketer.get(page)
		expect(t, "marketer approves", http.StatusForbidden)(f.marketer.post("/assessments/"+id+"/approve", url.Values{"transfer_id": {f.transfer}}))
		body = expect(t, "second admin's view", http.StatusOK)(f.admin2.get(page))
		if !strings.Contains(body, `id="approve-`+id+`"`) {
			t.Fatalf("second admin cannot approve:\n%s", body)
		}
		expect(t, "approve", http.StatusSeeOther)(f.admin2.post("/assessments/"+id+"/approve", url.Values{"transfer_id": {f.transfer}}))
		body = expect(t, "approved", http.StatusOK)(f.admin.get(page))
		if !strings.Contains(body, `data-status="approved"`) || !strings.Contains(body, "已批准") {
			t.Fatalf("approved:\n%s", body)
		}
		body = expect(t, "decided twice", http.StatusConflict)(f.admin2.post("/assessments/"+id+"/reject", url.Values{"transfer_id": {f.transfer}}))
		if !strings.Contains(body, "已经审批过了") {
			t.Fatalf("decided twice:\n%s", body)
		}
		if len(a.auditActions("assessment.approved")) != 1 || len(a.auditActions("assessment.rejected")) != 0 {
			t.Error("decisions audited wrongly")
		}
	})
}

// TestExportPages: the dry run counts who goes and who is left out; the
// export refuses without confirmation, an assessment or a valid key (in
// the reader's language), then downloads a package only the buyer opens,
// whose SHA-256 the evidence carries.
func TestExportPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		w := f.admin
		w.get("/export?transfer=" + f.transfer)
		body := expect(t, "dry run", http.StatusOK)(w.post("/export/dry-run", url.Values{"transfer_id": {f.transfer}, "rule": {"all"}}))
		for _, want := range []string{`id="count-customers">2<`, `id="count-selected">1<`, `id="count-omitted">1<`, "邮箱", `id="export-form"`} {
			if !strings.Contains(body, want) {
				t.Fatalf("dry run lacks %q:\n%s", want, body)
			}
		}
		body = expect(t, "bad rule", http.StatusBadRequest)(w.post("/export/dry-run", url.Values{"transfer_id": {f.transfer}, "rule": {"some"}}))
		if !strings.Contains(body, "同意规则须为") {
			t.Fatalf("bad rule:\n%s", body)
		}
		buyer, _ := age.GenerateX25519Identity()
		form := url.Values{"transfer_id": {f.transfer}, "rule": {"all"}, "recipient": {buyer.Recipient().String()}}
		body = expect(t, "unconfirmed", http.StatusBadRequest)(w.post("/export", form))
		if !strings.Contains(body, "请勾选确认后再导出") {
			t.Fatalf("unconfirmed:\n%s", body)
		}
		form.Set("confirm", "yes")
		body = expect(t, "no assessment", http.StatusForbidden)(w.post("/export", form))
		if !strings.Contains(body, "须先为每个目的的导出获得已批准的影响评估") {
			t.Fatalf("no assessment:\n%s", body)
		}
		if len(a.auditActions("transfer.export")) != 0 {
			t.Fatal("a refused export was audited as started")
		}
		// In English, for an English reader.
		if err := a.staff.UpdatePreferences(context.Background(), f.adminMember.ID, "en", "Asia/Shanghai"); err != nil {
			t.Fatal(err)
		}
		body = expect(t, "bad key", http.StatusBadRequest)(w.post("/export", url.Values{"transfer_id": {f.transfer}, "recipient": {"ssh-rsa AAAA"}, "confirm": {"yes"}}))
		if !strings.Contains(body, "The buyer&#39;s key must be an age public key") {
			t.Fatalf("bad key in English:\n%s", body)
		}
		pia := map[string]any{"transfer_id": f.transfer, "activity": "export", "purpose": "订单履行", "necessity": "履约", "risks": "泄露", "measures": "加密"}
		b, _ := json.Marshal(pia)
		var as struct{ ID string }
		a.postJSON("/api/v1/assessments", a.tokenFor(staff.Marketer), string(b), &as)
		if code := a.postJSON("/api/v1/assessments/"+as.ID+"/approve", f.token, ``, nil); code != http.StatusNoContent {
			t.Fatalf("approve: %d", code)
		}
		req := w.formRequest("/export", map[string]string{"transfer_id": f.transfer, "rule": "all", "recipient": buyer.Recipient().String(), "confirm": "yes"})
		resp, err := w.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		pkg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Disposition"), ".tar.age") {
			t.Fatalf("export: %d %v", resp.StatusCode, resp.Header)
		}
		if _, err := age.Decrypt(bytes.NewReader(pkg), buyer); err != nil {
			t.Fatalf("the buyer cannot open the package: %v", err)
		}
		resp, body = w.get("/export/evidence?transfer=" + f.transfer)
		expect(t, "evidence", http.StatusOK)(resp, body)
		var ev struct {
			Entries []struct {
				Action string
				Detail map[string]any
			}
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil || len(ev.Entries) != 2 || ev.Entries[1].Detail["customers"] != float64(1) {
			t.Fatalf("evidence: %v\n%s", err, body)
		}
		if sum, _ := ev.Entries[1].Detail["package_sha256"].(string); sum != sha256hex(pkg) {
			t.Fatalf("evidence sha256 %q; package %s", sum, sha256hex(pkg))
		}
		body = expect(t, "past exports", http.StatusOK)(w.get("/export?transfer=" + f.transfer))
		if !strings.Contains(body, sha256hex(pkg)) {
			t.Fatalf("past exports:\n%s", body)
		}
	})
}

// TestDestructionPages: request; the requester cannot approve; the
// auditor approves only after re-entering their password; the run needs
// the seller's name typed; then it destroys every customer and reports.
func TestDestructionPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		f.admin.get("/destruction?transfer=" + f.transfer)
		body := expect(t, "bad days", http.StatusBadRequest)(f.admin.post("/destruction", url.Values{"transfer_id": {f.transfer}, "retention_days": {"9999"}}))
		if !strings.Contains(body, "请输入生效日后的天数") {
			t.Fatalf("bad days:\n%s", body)
		}
		resp, body := f.admin.post("/destruction", url.Values{"transfer_id": {f.transfer}, "retention_days": {"0"}})
		expect(t, "request", http.StatusSeeOther)(resp, body)
		plan := "/destruction/" + idInPath.FindStringSubmatch(resp.Header.Get("Location"))[1]
		body = expect(t, "plan as requester", http.StatusOK)(f.admin.get(plan))
		if !strings.Contains(body, `id="own-plan"`) || strings.Contains(body, `id="approve-form"`) {
			t.Fatalf("requester's view:\n%s", body)
		}
		expect(t, "admin approves", http.StatusForbidden)(f.admin.post(plan+"/approve", url.Values{"password": {testPassword}}))
		body = expect(t, "plan as auditor", http.StatusOK)(f.auditor.get(plan))
		if !strings.Contains(body, `id="reauth-password"`) {
			t.Fatalf("auditor's view:\n%s", body)
		}
		body = expect(t, "wrong password", http.StatusUnauthorized)(f.auditor.post(plan+"/approve", url.Values{"password": {"wrong"}}))
		if !strings.Contains(body, "密码或动态码不正确") || !strings.Contains(body, `data-status="requested"`) {
			t.Fatalf("wrong password:\n%s", body)
		}
		expect(t, "approve", http.StatusSeeOther)(f.auditor.post(plan+"/approve", url.Values{"password": {testPassword}}))
		if e := a.auditActions("destruction.approve"); len(e) != 1 || e[0].Actor != f.auditorMember.Actor() {
			t.Fatalf("approval audit: %+v", e)
		}
		body = expect(t, "approved plan", http.StatusOK)(f.admin.get(plan))
		if !strings.Contains(body, `data-status="approved"`) || !strings.Contains(body, `id="run-form"`) {
			t.Fatalf("approved plan:\n%s", body)
		}
		body = expect(t, "wrong name", http.StatusBadRequest)(f.admin.post(plan+"/run", url.Values{"confirm": {"江南商贸"}}))
		if !strings.Contains(body, "请准确输入所示的卖方名称以确认") {
			t.Fatalf("wrong name:\n%s", body)
		}
		if n, _ := a.customerCount(); n != 2 {
			t.Fatalf("%d customers left after a refused run", n)
		}
		expect(t, "run", http.StatusSeeOther)(f.admin.post(plan+"/run", url.Values{"confirm": {"华东五金"}}))
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, body = f.auditor.get(plan)
			if strings.Contains(body, `data-status="completed"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the run did not complete:\n%s", body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(body, `id="destroyed-count">2<`) {
			t.Fatalf("completed plan:\n%s", body)
		}
		resp, body = f.auditor.get(plan + "/report")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") {
			t.Fatalf("report: %d", resp.StatusCode)
		}
		if n, _ := a.customerCount(); n != 0 {
			t.Fatalf("%d customers left", n)
		}
	})
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (a *app) customerCount() (int, error) {
	var n int
	err := a.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM customers`).Scan(&n)
	return n, err
}

// TestTrainingAdminPages: a module with a bad question is refused in the
// reader's language and stored nowhere; a good one is required of its
// role at once; retiring asks first; an agreement version is published
// after a confirmation step, and the results list who accepted it.
func TestTrainingAdminPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		f := newComplianceFixture(t, a)
		w := f.admin
		w.get("/governance/training")
		form := url.Values{"role": {"agent"}, "title": {"客户信息保护"}, "body": {"只在需要时查看客户信息。"}, "pass_score": {"100"}, "period_days": {"365"},
			"q0": {"何时查看客户信息？"}, "q0_options": {"随时"}, "q0_answer": {"1"}}
		body := expect(t, "one option", http.StatusBadRequest)(w.post("/governance/training", form))
		if !strings.Contains(body, "每道题都需要题目、至少两个选项和正确选项序号") || !strings.Contains(body, "客户信息保护") {
			t.Fatalf("one option:\n%s", body)
		}
		if len(a.auditActions("training.create")) != 0 {
			t.Fatal("a refused module was stored")
		}
		expect(t, "auditor creates", http.StatusForbidden)(f.auditor.post("/governance/training", form))
		form.Set("q0_options", "随时\n需要时")
		form.Set("q0_answer", "2")
		expect(t, "create", http.StatusSeeOther)(w.post("/governance/training", form))
		body = expect(t, "modules", http.StatusOK)(w.get("/governance/training"))
		id := between(body, `id="retire-`, `"`)
		if id == "" {
			t.Fatalf("module not listed:\n%s", body)
		}
		if _, body := f.agt.get("/customers"); !strings.Contains(body, `href="/training"`) {
			t.Fatalf("the agent is not sent to the training:\n%s", body)
		}
		body = expect(t, "retire confirm", http.StatusOK)(w.get("/governance/training/" + id + "/retire"))
		if !strings.Contains(body, "确定不再要求此课程吗") {
			t.Fatalf("retire confirm:\n%s", body)
		}
		expect(t, "retire", http.StatusSeeOther)(w.post("/governance/training/"+id+"/retire", nil))
		body = expect(t, "retire twice", http.StatusNotFound)(w.post("/governance/training/"+id+"/retire", nil))
		if !strings.Contains(body, "该课程已停用") {
			t.Fatalf("retire twice:\n%s", body)
		}
		if resp, _ := f.agt.get("/customers"); resp.StatusCode != http.StatusOK {
			t.Fatalf("the retired module still blocks: %d", resp.StatusCode)
		}

		w.get("/governance/agreements")
		body = expect(t, "empty text", http.StatusBadRequest)(w.post("/governance/agreements/confirm", url.Values{"text_zh": {"保密"}}))
		if !strings.Contains(body, "保密协议需要中文和英文文本") {
			t.Fatalf("empty text:\n%s", body)
		}
		body = expect(t, "confirm step", http.StatusOK)(w.post("/governance/agreements/confirm", url.Values{"text_zh": {"我承诺保密。"}, "text_en": {"I keep it confidential."}}))
		if !strings.Contains(body, `id="publish-form"`) || !strings.Contains(body, "发布后，所有员工须接受新文本") {
			t.Fatalf("confirm step:\n%s", body)
		}
		if _, err := a.governance.CurrentAgreement(context.Background()); err == nil {
			t.Fatal("the confirmation step published")
		}
		expect(t, "publish", http.StatusSeeOther)(w.post("/governance/agreement", url.Values{"text_zh": {"我承诺保密。"}, "text_en": {"I keep it confidential."}}))
		body = expect(t, "results", http.StatusOK)(f.auditor.get("/governance/agreements"))
		if !strings.Contains(body, `id="accepted-count">0<`) || !strings.Contains(body, "尚未接受") {
			t.Fatalf("results:\n%s", body)
		}
	})
}

// TestDestructionApprovalAsksTheCode: an auditor with two-step sign-in on
// approves only with their password and a fresh authenticator code, as
// `handover destroy approve` asks; a code used once is refused.
func TestDestructionApprovalAsksTheCode(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	f := newComplianceFixture(t, a)
	ctx := context.Background()
	enrol, err := a.staff.BeginTOTP(ctx, f.auditorMember.ID)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(enrol.Secret, time.Now())
	if err := a.staff.ConfirmTOTP(ctx, f.auditorMember.ID, code); err != nil {
		t.Fatal(err)
	}
	f.admin.get("/destruction?transfer=" + f.transfer)
	resp, body := f.admin.post("/destruction", url.Values{"transfer_id": {f.transfer}, "retention_days": {"0"}})
	expect(t, "request", http.StatusSeeOther)(resp, body)
	plan := "/destruction/" + idInPath.FindStringSubmatch(resp.Header.Get("Location"))[1]
	body = expect(t, "plan", http.StatusOK)(f.auditor.get(plan))
	if !strings.Contains(body, `id="reauth-code"`) {
		t.Fatalf("no code field:\n%s", body)
	}
	body = expect(t, "password alone", http.StatusUnauthorized)(f.auditor.post(plan+"/approve", url.Values{"password": {testPassword}}))
	if !strings.Contains(body, "密码或动态码不正确") {
		t.Fatalf("password alone:\n%s", body)
	}
	expect(t, "used code", http.StatusUnauthorized)(f.auditor.post(plan+"/approve", url.Values{"password": {testPassword}, "code": {code}}))
	next, _ := totp.GenerateCode(enrol.Secret, time.Now().Add(30*time.Second))
	expect(t, "approve", http.StatusSeeOther)(f.auditor.post(plan+"/approve", url.Values{"password": {testPassword}, "code": {next}}))
	if len(a.auditActions("destruction.approve")) != 1 {
		t.Fatal("approval not audited")
	}
	// The proof opened no session of its own.
	var sessions int
	a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sessions WHERE staff_id = $1`, f.auditorMember.ID).Scan(&sessions)
	if sessions != 1 {
		t.Fatalf("%d sessions for the auditor; want the one signed in", sessions)
	}
}

var (
	// rawKey is a catalog key shown untranslated.
	rawKey = regexp.MustCompile(`\b(?:cerr|compliance|incident|assessment|export|destruction|training|agreements|flash|status|role|channel|gov|error)\.[a-z_]+[a-z]\b`)
	// rawCode is a status, kind, channel or role code shown as a text.
	rawCode = regexp.MustCompile(`>\s*(?:draft|requested|approved|rejected|running|completed|cancelled|open|contained|closed|measure|notice|report|recorded|export|campaign|devbox|sms|email|wechat|admin|agent|auditor|marketer|all|any)\s*<`)
	// sentence is an English sentence in a Chinese page: three words.
	sentence = regexp.MustCompile(`>[^<]*\b[A-Za-z]{2,} [A-Za-z]{2,} [A-Za-z]{2,}\b[^<]*<`)
	// hanChar is a Chinese character on an English page.
	hanChar = regexp.MustCompile(`\p{Han}`)
)

// TestCompliancePagesSpeakTheReadersLanguage: every compliance page, with
// data on it, shows no catalog key or raw code; in Chinese no English
// sentence, in English no Chinese outside what staff and customers
// typed.
func TestCompliancePagesSpeakTheReadersLanguage(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	f := newComplianceFixture(t, a)
	w := f.admin
	w.get("/incidents/new")
	form := url.Values{"title": {"Laptop infected"}, "cause": {"Phishing"}, "measures": {"Isolated"}, "contact": {"dpo@example.com"},
		"data_categories": {"name"}, "occurred_at": {"2026-03-01T09:00"}, "discovered_at": {"2026-03-01T10:30"}, "customers": {f.customerIDs[0]}}
	resp, body := w.post("/incidents", form)
	expect(t, "record", http.StatusSeeOther)(resp, body)
	incident := strings.Split(resp.Header.Get("Location"), "?")[0]
	expect(t, "event", http.StatusSeeOther)(w.post(incident+"/events", url.Values{"kind": {"status"}, "note": {"contained"}}))
	expect(t, "notice", http.StatusSeeOther)(w.post(incident+"/notice", url.Values{"transfer_id": {f.transfer}, "channels": {"devbox"}}))
	expect(t, "assessment", http.StatusSeeOther)(w.post("/assessments", url.Values{"transfer_id": {f.transfer}, "activity": {"export"},
		"purpose": {"订单履行"}, "necessity": {"n"}, "risks": {"r"}, "measures": {"m"}}))
	resp, body = w.post("/destruction", url.Values{"transfer_id": {f.transfer}, "retention_days": {"0"}})
	expect(t, "destruction", http.StatusSeeOther)(resp, body)
	plan := strings.Split(resp.Header.Get("Location"), "?")[0]
	expect(t, "training", http.StatusSeeOther)(w.post("/governance/training", url.Values{"role": {"agent"}, "title": {"Basics"}, "body": {"Read."},
		"q0": {"When?"}, "q0_options": {"Always\nWhen needed"}, "q0_answer": {"2"}}))
	pages := []string{"/compliance", "/incidents", "/incidents/new", incident, "/assessments?transfer=" + f.transfer,
		"/export?transfer=" + f.transfer, "/destruction?transfer=" + f.transfer, plan, "/governance/training", "/governance/agreements"}
	// What staff typed in English above, and the transfer's own words.
	typed := strings.NewReplacer("Laptop infected", "", "Phishing", "", "Isolated", "", "When needed", "", "Basics", "")
	for _, locale := range []string{"zh-CN", "en"} {
		if err := a.staff.UpdatePreferences(context.Background(), f.adminMember.ID, locale, "Asia/Shanghai"); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			body := expect(t, locale+" "+p, http.StatusOK)(w.get(p))
			main := typed.Replace(between(body, "<main", "</main>"))
			if len(main) < 500 {
				t.Fatalf("%s %s: no main\n%s", locale, p, body)
			}
			if k := rawKey.FindString(main); k != "" {
				t.Errorf("%s %s shows the key %q", locale, p, k)
			}
			if c := rawCode.FindString(main); c != "" {
				t.Errorf("%s %s shows the code %q", locale, p, c)
			}
			if locale == "zh-CN" {
				// The notice campaign's name is the domain's bilingual one.
				if s := sentence.FindString(strings.ReplaceAll(main, "Incident notice: ", "")); s != "" {
					t.Errorf("zh-CN %s shows English: %q", p, s)
				}
			} else {
				// Transfer, purpose and notice names are data in Chinese.
				data := strings.NewReplacer("华东五金", "", "江南商贸", "", "订单履行", "", "安全事件告知", "").Replace(main)
				if h := hanChar.FindString(data); h != "" {
					i := strings.Index(data, h)
					t.Errorf("en %s shows Chinese: %q", p, data[max(0, i-80):min(len(data), i+80)])
				}
			}
		}
	}
}
