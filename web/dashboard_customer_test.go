package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// The customer's page lists the campaign messages and the tickets; a
// marketer, who may not read tickets, sees no tickets.
func TestDashboardCustomerDeliveriesAndTickets(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte("姓名,手机\n张三,13812345678\n"))
	all, _, err := a.customers.FindCustomers(ctx, customers.Filter{Limit: 5})
	if err != nil || len(all) != 1 {
		t.Fatal(err)
	}
	id := all[0].ID
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	var cp struct{ ID string }
	a.postJSON("/api/v1/campaigns", token, fmt.Sprintf(`{"name":"转让告知甲","transfer_id":%q,"kind":"transfer_notice","channels":["devbox"],"templates":{"devbox":%q}}`,
		tr.ID, list[0].ID), &cp)
	if code := a.postJSON("/api/v1/campaigns/"+cp.ID+"/start", token, ``, nil); code != http.StatusOK && code != http.StatusAccepted {
		t.Fatalf("start: %d", code)
	}
	if err := a.tickets.HandleInboundEvent(ctx, channels.InboundEvent{ID: ulid.Make().String(), Channel: channels.Devbox,
		Kind: channels.EventMessage, Text: "投诉：还没收到货", CustomerID: id}); err != nil {
		t.Fatal(err)
	}
	_, agentEmail := a.staffMember(staff.Agent, "agent")
	_, marketerEmail := a.staffMember(staff.Marketer, "marketer")
	agent, marketer := a.newWebClient(), a.newWebClient()
	agent.login(agentEmail, testPassword)
	marketer.login(marketerEmail, testPassword)
	resp, body := agent.get("/customers/" + id)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "转让告知甲") || !strings.Contains(body, `id="customer-tickets"`) ||
		!strings.Contains(body, "投诉") {
		t.Fatalf("agent's customer page: %d\n%s", resp.StatusCode, body)
	}
	if _, body := marketer.get("/customers/" + id); strings.Contains(body, `id="customer-tickets"`) || !strings.Contains(body, "转让告知甲") {
		t.Errorf("marketer's customer page shows tickets or lacks deliveries")
	}
}
