package web_test

import (
	"net/http"
	"testing"

	"github.com/handoverhq/handover/staff"
)

// A phone call logged by an agent becomes a ticket message on "phone",
// classified like a written reply.
func TestTicketCallAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent, auditor := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent), a.tokenFor(staff.Auditor)
		a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n"))
		var cs struct {
			Data []struct{ ID string } `json:"data"`
		}
		a.getJSON("/api/v1/customers", admin, &cs)
		body := `{"customer_id":"` + cs.Data[0].ID + `","text":"客户来电投诉：送货太慢"}`
		if code := a.postJSON("/api/v1/tickets/calls", auditor, body, nil); code != http.StatusForbidden {
			t.Errorf("auditor logging a call: %d", code)
		}
		if code := a.postJSON("/api/v1/tickets/calls", agent, `{"customer_id":"nobody","text":"x"}`, nil); code != http.StatusNotFound {
			t.Errorf("unknown customer: %d", code)
		}
		if code := a.postJSON("/api/v1/tickets/calls", agent, `{"customer_id":"`+cs.Data[0].ID+`"}`, nil); code != http.StatusBadRequest {
			t.Errorf("no text: %d", code)
		}
		var created struct {
			TicketID string `json:"ticket_id"`
		}
		if code := a.postJSON("/api/v1/tickets/calls", agent, body, &created); code != http.StatusCreated || created.TicketID == "" {
			t.Fatalf("log call: %d %+v", code, created)
		}
		var tk ticketResp
		if code := a.getJSON("/api/v1/tickets/"+created.TicketID, agent, &tk); code != http.StatusOK {
			t.Fatalf("view: %d", code)
		}
		if tk.Category != "complaint" || tk.Priority != "high" || len(tk.Messages) != 1 || tk.Messages[0].Channel != "phone" {
			t.Errorf("ticket = %+v", tk)
		}
		if got := a.auditActions("ticket.log_call"); len(got) != 1 {
			t.Errorf("audit entries = %d", len(got))
		}
	})
}
