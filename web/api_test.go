package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

const sampleCSV = "姓名,手机,邮箱,公司,地区\n" +
	"张三,138 1234 5678,zhang@example.com,华东五金,上海\n" +
	"李四,+86-139-0000-1111,li@example.com,江南商贸,杭州\n" +
	"王五,12345,not-an-email,坏数据,南京\n"

type importResp struct {
	ID, Status                        string
	Created, Updated, Rejected, Total int64
	Errors                            []struct {
		Row           int64
		Field, Reason string
	}
}

func (a *app) importAndWait(token string, content []byte) importResp {
	a.t.Helper()
	var im struct {
		ID       string `json:"id"`
		Status   string `json:"status"`
		Created  int64  `json:"created"`
		Updated  int64  `json:"updated"`
		Rejected int64  `json:"rejected"`
		Errors   []struct {
			Row    int64  `json:"row"`
			Field  string `json:"field"`
			Reason string `json:"reason"`
		} `json:"errors"`
	}
	if code := a.upload(token, "customers.csv", content, "", &im); code != http.StatusAccepted {
		a.t.Fatalf("upload: status %d", code)
	}
	deadline := time.Now().Add(30 * time.Second)
	for im.Status != "completed" && im.Status != "failed" {
		if time.Now().After(deadline) {
			a.t.Fatalf("import still %s after 30 s", im.Status)
		}
		time.Sleep(20 * time.Millisecond)
		a.getJSON("/api/v1/imports/"+im.ID, token, &im)
	}
	out := importResp{ID: im.ID, Status: im.Status, Created: im.Created, Updated: im.Updated, Rejected: im.Rejected}
	for _, e := range im.Errors {
		out.Errors = append(out.Errors, struct {
			Row           int64
			Field, Reason string
		}{e.Row, e.Field, e.Reason})
	}
	return out
}

func TestImportListRevealEndToEnd(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin := a.tokenFor(staff.Admin)
		im := a.importAndWait(admin, []byte(sampleCSV))
		if im.Status != "completed" || im.Created != 2 || im.Rejected != 1 {
			t.Fatalf("import = %+v; want completed, 2 created, 1 rejected", im)
		}
		if len(im.Errors) == 0 || im.Errors[0].Row != 4 {
			t.Fatalf("rejected rows = %+v; want row 4 reported", im.Errors)
		}
		for _, e := range im.Errors {
			if strings.Contains(e.Reason, "12345") || strings.Contains(e.Reason, "not-an-email") {
				t.Fatalf("rejection reason repeats the rejected value: %q", e.Reason)
			}
		}

		var page struct {
			Data []struct {
				ID, Name, Phone, Email string
				Masked                 bool
			} `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		if code := a.getJSON("/api/v1/customers?phone=%2B8613812345678", admin, &page); code != http.StatusOK || len(page.Data) != 1 {
			t.Fatalf("phone filter: status %d, %d customers; want 1", code, len(page.Data))
		}
		c := page.Data[0]
		if c.Phone != "138****5678" || c.Email != "z***@example.com" || c.Name != "张*" || !c.Masked {
			t.Fatalf("list is not masked: %+v", c)
		}

		var revealed struct{ Phone, Email string }
		if code := a.postJSON("/api/v1/customers/"+c.ID+"/reveal", admin, `{"reason":"customer called"}`, &revealed); code != http.StatusOK {
			t.Fatalf("reveal: status %d", code)
		}
		if revealed.Phone != "+8613812345678" || revealed.Email != "zhang@example.com" {
			t.Fatalf("revealed = %+v", revealed)
		}
		var e apiError
		if code := a.postJSON("/api/v1/customers/"+c.ID+"/reveal", admin, `{"reason":""}`, &e); code != http.StatusBadRequest {
			t.Fatalf("reveal without reason: status %d, want 400", code)
		}
		var reveals int
		a.db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'customer.reveal' AND object_id = $1`, c.ID).Scan(&reveals)
		if reveals != 1 {
			t.Fatalf("audit has %d reveal entries, want 1", reveals)
		}

		// Re-importing the same file updates, never duplicates.
		again := a.importAndWait(admin, []byte(sampleCSV))
		if again.Created != 0 || again.Updated != 2 {
			t.Fatalf("re-import = %+v; want 0 created, 2 updated", again)
		}
		if logs := a.logs.String(); strings.Contains(logs, "13812345678") || strings.Contains(logs, "zhang@") {
			t.Fatal("personal data reached the log")
		}
	})
}

func TestRolesAreEnforcedPerRoute(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	tokens := map[staff.Role]string{}
	for _, r := range []staff.Role{staff.Admin, staff.Agent, staff.Marketer, staff.Auditor} {
		tokens[r] = a.tokenFor(r)
	}
	transfer := `{"seller_name":"华东五金批发有限公司","buyer_name":"江南商贸集团","buyer_contact":"400-800-1234","effective_date":"2027-01-01","purposes":["order_fulfilment"],"data_categories":["name","phone"],"retention_days":365}`
	for _, c := range []struct {
		role   staff.Role
		method string
		path   string
		want   int
	}{
		{staff.Agent, "POST", "/api/v1/transfers", http.StatusForbidden},
		{staff.Auditor, "POST", "/api/v1/transfers", http.StatusForbidden},
		{staff.Marketer, "POST", "/api/v1/transfers", http.StatusForbidden},
		{staff.Admin, "POST", "/api/v1/transfers", http.StatusCreated},
		{staff.Marketer, "POST", "/api/v1/customers/x/reveal", http.StatusForbidden},
		{staff.Auditor, "POST", "/api/v1/customers/x/reveal", http.StatusForbidden},
		{staff.Agent, "POST", "/api/v1/customers/x/reveal", http.StatusNotFound},
		{staff.Agent, "GET", "/api/v1/imports/x", http.StatusForbidden},
		{staff.Auditor, "GET", "/api/v1/customers", http.StatusOK},
	} {
		body := `{"reason":"check"}`
		if strings.HasSuffix(c.path, "transfers") {
			body = transfer
		}
		var e apiError
		resp := a.do(c.method, c.path, tokens[c.role], "application/json", strings.NewReader(body), &e)
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %s: status %d, want %d (%+v)", c.role, c.method, c.path, resp.StatusCode, c.want, e.Error)
		}
		if c.want == http.StatusForbidden && e.Error.Code != "forbidden" {
			t.Errorf("%s %s: error code %q, want forbidden", c.role, c.path, e.Error.Code)
		}
	}
	for _, auth := range []string{"", "hov_forged", "Basic abc"} {
		var e apiError
		req := a.do("GET", "/api/v1/me", "", "", nil, &e)
		_ = auth
		if req.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthorized" {
			t.Errorf("no token: status %d code %q", req.StatusCode, e.Error.Code)
		}
	}
}

func TestBadInputGetsClearErrors(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_MAX_UPLOAD_MB=1")
	admin := a.tokenFor(staff.Admin)
	for _, c := range []struct {
		name, body string
		want       int
		inMessage  string
	}{
		{"syntax", `{"seller_name":`, 400, "not valid JSON"},
		{"unknown field", `{"seller":"x"}`, 400, "Unknown field"},
		{"wrong type", `{"retention_days":"long"}`, 400, "retention_days"},
		{"missing date", `{"seller_name":"甲","buyer_name":"乙","buyer_contact":"400","purposes":["p"],"data_categories":["name"],"retention_days":30}`, 400, "effective_date"},
		{"oversized", `{"seller_name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, ""},
	} {
		var e apiError
		code := a.postJSON("/api/v1/transfers", admin, c.body, &e)
		if code != c.want || !strings.Contains(e.Error.Message, c.inMessage) {
			t.Errorf("%s: %d %+v; want %d with %q", c.name, code, e.Error, c.want, c.inMessage)
		}
	}
	var n int
	a.db.QueryRow(`SELECT COUNT(*) FROM transfers`).Scan(&n)
	if n != 0 {
		t.Fatalf("%d transfers written by bad requests", n)
	}

	var e apiError
	if code := a.upload(admin, "big.csv", []byte("姓名,手机\n"+strings.Repeat("张三,13812345678\n", 80000)), "", &e); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized upload: %d %+v, want 413", code, e.Error)
	}
	if code := a.upload(admin, "x.csv", []byte("a,b\n"), `{"列":"nonsense"}`, &e); code != http.StatusBadRequest {
		t.Fatalf("bad mapping: %d, want 400", code)
	}
	resp := a.do("POST", "/api/v1/customers/import", admin, "application/json", strings.NewReader(`{}`), &e)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error.Message, "multipart") {
		t.Fatalf("non-multipart upload: %d %+v", resp.StatusCode, e.Error)
	}
	zh := a.do("GET", "/api/v1/nowhere", admin, "", nil, &e)
	if zh.StatusCode != http.StatusNotFound || e.Error.Code != "not_found" {
		t.Fatalf("unknown route: %d %+v", zh.StatusCode, e.Error)
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	mr := miniredis.RunT(t)
	q, err := queue.Open(t.Context(), "redis://"+mr.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	a := newApp(t, dbtest.SQLite(t), q)
	if code := a.getJSON("/healthz", "", nil); code != http.StatusOK {
		t.Fatalf("healthz %d", code)
	}
	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	if code := a.getJSON("/readyz", "", &ready); code != http.StatusOK || ready.Status != "ready" {
		t.Fatalf("readyz %d %+v", code, ready)
	}
	mr.Close() // our own server: an outage only this test sees
	if code := a.getJSON("/readyz", "", &ready); code != http.StatusServiceUnavailable || ready.Checks["redis"] != "unreachable" {
		t.Fatalf("readyz with Redis down: %d %+v", code, ready)
	}
	resp := a.do("GET", "/metrics", "", "", nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics %d", resp.StatusCode)
	}
	var body strings.Builder
	r2, _ := http.Get(a.url + "/metrics")
	buf := make([]byte, 1<<20)
	n, _ := r2.Body.Read(buf)
	body.Write(buf[:n])
	r2.Body.Close()
	if !strings.Contains(body.String(), `handover_http_requests_total{method="GET",route="/readyz",status="503"}`) {
		t.Fatalf("metrics lack the readyz 503 count:\n%s", body.String()[:min(n, 2000)])
	}
	if !strings.Contains(body.String(), "handover_campaign_duplicates_suspected_total 0") {
		t.Fatalf("metrics lack the campaigns' suspected duplicates:\n%s", body.String()[:min(n, 2000)])
	}
}

func TestTransferRoundTrip(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent)
		var created struct {
			ID        string   `json:"id"`
			BuyerName string   `json:"buyer_name"`
			Purposes  []string `json:"purposes"`
		}
		body := `{"seller_name":"华东五金批发有限公司","buyer_name":"江南商贸集团","buyer_contact":"400-800-1234","effective_date":"2027-01-01","purposes":["order_fulfilment","marketing"],"data_categories":["name","phone"],"retention_days":365}`
		if code := a.postJSON("/api/v1/transfers", admin, body, &created); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		var got struct {
			BuyerName string   `json:"buyer_name"`
			Purposes  []string `json:"purposes"`
		}
		if code := a.getJSON("/api/v1/transfers/"+created.ID, agent, &got); code != http.StatusOK || got.BuyerName != "江南商贸集团" || fmt.Sprint(got.Purposes) != "[order_fulfilment marketing]" {
			t.Fatalf("get: %d %+v", code, got)
		}
	})
}
