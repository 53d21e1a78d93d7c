package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

type templateResp struct {
	ID       string   `json:"id"`
	Version  int      `json:"version"`
	Body     string   `json:"body"`
	Archived bool     `json:"archived"`
	Warnings []string `json:"warnings"`
}

type previewResp struct {
	Version  int               `json:"version"`
	Text     string            `json:"text"`
	Params   map[string]string `json:"params"`
	Chars    int               `json:"chars"`
	Segments int               `json:"segments"`
	Warnings []string          `json:"warnings"`
}

// smsNoticeJSON is an SMS template as filed with Aliyun: the approved text
// with ${variables}, its type and code, and what fills each variable.
const smsNoticeJSON = `{"name":"转让告知","kind":"transfer_notice","channel":"sms","locale":"zh-CN",
	"body":"尊敬的${name}：我司业务已转让给${buyer}，联系方式${contact}。详情及授权：https://h.example.cn/l/${code}",
	"sms":{"sign_name":"华东五金","type":"notice","template_code":"SMS_1","params":{"name":"{{.Customer.Name}}",
	"buyer":"{{.Transfer.BuyerName}}","contact":"{{.Transfer.BuyerContact}}","code":"{{.LinkToken}}"}}}`

func TestTemplatesAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		marketer, agent := a.tokenFor(staff.Marketer), a.tokenFor(staff.Agent)

		var e apiError
		if code := a.postJSON("/api/v1/templates", agent, smsNoticeJSON, &e); code != http.StatusForbidden || e.Error.Code != "forbidden" {
			t.Fatalf("agent create: %d %+v; want 403", code, e)
		}
		var created templateResp
		if code := a.postJSON("/api/v1/templates", marketer, smsNoticeJSON, &created); code != http.StatusCreated {
			t.Fatalf("marketer create: %d", code)
		}
		if created.Version != 1 || len(created.Warnings) == 0 {
			t.Fatalf("created = %+v; want version 1 with a segments warning", created)
		}
		// Aliyun refuses opt-out wording in a notice: so does Handover.
		optOut := strings.Replace(smsNoticeJSON, "${code}\"", "${code} 回T退订\"", 1)
		if code := a.postJSON("/api/v1/templates", marketer, optOut, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "opt-out wording") {
			t.Fatalf("notice with opt-out wording: %d %q", code, e.Error.Message)
		}
		bad := strings.Replace(smsNoticeJSON, "{{.Transfer.BuyerName}}", "{{.Transfer.Buyer}}", 1)
		if code := a.postJSON("/api/v1/templates", marketer, bad, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, ".Transfer.Buyer") {
			t.Fatalf("unknown variable: %d %q", code, e.Error.Message)
		}

		// Agents may read and preview; a preview with a real customer and
		// transfer counts the segments on the real text and masks it.
		admin := a.tokenFor(staff.Admin)
		a.importAndWait(admin, []byte(sampleCSV))
		list, _, err := a.customers.FindCustomers(context.Background(), customers.Filter{Phone: "+8613812345678"})
		if err != nil || len(list) != 1 {
			t.Fatalf("imported customer: %d, %v", len(list), err)
		}
		var tr struct{ ID string }
		a.postJSON("/api/v1/transfers", admin, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
			"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
		var p previewResp
		body := `{"customer_id":"` + list[0].ID + `","transfer_id":"` + tr.ID + `"}`
		if code := a.postJSON("/api/v1/templates/"+created.ID+"/preview", agent, body, &p); code != http.StatusOK {
			t.Fatalf("preview: %d", code)
		}
		if p.Segments != 2 || p.Chars <= 70 || len(p.Warnings) == 0 || strings.Contains(p.Text, "张三") || !strings.Contains(p.Text, "江南商贸") ||
			!strings.Contains(p.Text, "https://h.example.cn/l/"+p.Params["code"]) || p.Params["code"] == "" {
			t.Fatalf("preview = %+v; want 2 segments, a warning, masked name, the buyer", p)
		}

		// Editing makes version 2; version 1 stays readable.
		var updated templateResp
		upd := `{"version":1,"body":"${name}：已转给${buyer}（${contact}）https://h.example.cn/l/${code}","sms":{"sign_name":"华东五金","type":"notice",
			"params":{"name":"{{.Customer.Name}}","buyer":"{{.Transfer.BuyerName}}","contact":"{{.Transfer.BuyerContact}}","code":"{{.LinkToken}}"}}}`
		if code := a.do(http.MethodPut, "/api/v1/templates/"+created.ID, marketer, "application/json", strings.NewReader(upd), &updated).StatusCode; code != http.StatusOK || updated.Version != 2 {
			t.Fatalf("update: %d %+v", code, updated)
		}
		if code := a.do(http.MethodPut, "/api/v1/templates/"+created.ID, marketer, "application/json", strings.NewReader(upd), &e).StatusCode; code != http.StatusConflict {
			t.Fatalf("stale update: %d; want 409", code)
		}
		var v1 templateResp
		if code := a.getJSON("/api/v1/templates/"+created.ID+"/versions/1", agent, &v1); code != http.StatusOK || !strings.Contains(v1.Body, "我司业务已转让") {
			t.Fatalf("version 1: %d %+v", code, v1)
		}
		var listed struct{ Data []templateResp }
		if code := a.getJSON("/api/v1/templates?kind=transfer_notice&channel=sms", agent, &listed); code != http.StatusOK || len(listed.Data) != 1 {
			t.Fatalf("list: %d %d", code, len(listed.Data))
		}
		if code := a.do(http.MethodDelete, "/api/v1/templates/"+created.ID, agent, "", nil, nil).StatusCode; code != http.StatusForbidden {
			t.Fatalf("agent delete: %d; want 403", code)
		}
		if code := a.do(http.MethodDelete, "/api/v1/templates/"+created.ID, marketer, "", nil, nil).StatusCode; code != http.StatusNoContent {
			t.Fatalf("delete: %d", code)
		}
		var gone templateResp
		if a.getJSON("/api/v1/templates/"+created.ID, agent, &gone); !gone.Archived {
			t.Fatalf("deleted template not archived: %+v", gone)
		}
	})
}

func TestTemplatePreviewOfDefaultWithSamples(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		if _, err := a.templates.InstallDefaults(context.Background()); err != nil {
			t.Fatal(err)
		}
		auditor := a.tokenFor(staff.Auditor)
		var listed struct{ Data []templateResp }
		a.getJSON("/api/v1/templates?kind=survey&channel=sms&locale=zh-CN", auditor, &listed)
		if len(listed.Data) != 1 {
			t.Fatalf("%d zh-CN SMS survey defaults; want 1", len(listed.Data))
		}
		var p previewResp
		if code := a.postJSON("/api/v1/templates/"+listed.Data[0].ID+"/preview", auditor, `{}`, &p); code != http.StatusOK {
			t.Fatalf("preview: %d", code)
		}
		// A notice to Aliyun: no opt-out wording; the link is the
		// approved text's fixed domain with the token filled in.
		if p.Segments != 1 || !strings.HasPrefix(p.Text, "张三您好") || strings.Contains(p.Text, "退订") ||
			!strings.HasSuffix(p.Text, "/l/"+p.Params["code"]) || p.Params["name"] != "张三" {
			t.Fatalf("preview = %+v", p)
		}
	})
}
