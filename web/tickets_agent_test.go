package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// ticketOf reads a ticket's working fields.
func (a *app) ticketOf(id string) *feedback.Ticket {
	a.t.Helper()
	tk, err := a.tickets.FindTicketByID(context.Background(), id)
	if err != nil {
		a.t.Fatal(err)
	}
	return tk
}

// customerByPhone is the id of the customer with this phone.
func (a *app) customerByPhone(phone string) string {
	a.t.Helper()
	list, _, err := a.customers.FindCustomers(context.Background(), customers.Filter{Phone: phone})
	if err != nil || len(list) != 1 {
		a.t.Fatalf("customer %s: %d, %v", phone, len(list), err)
	}
	return list[0].ID
}

// TestTicketAssignAndBulk: replying assigns an unassigned ticket to the
// replier; "assign to me" is a form; the queue's bulk form assigns,
// categorises and resolves the ticked tickets, audited, with CSRF, for
// roles that work tickets, and says clearly what was wrong with a bad
// submission.
func TestTicketAssignAndBulk(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		me, email := a.staffMember(staff.Agent, "agent")
		other, _ := a.staffMember(staff.Agent, "小王")
		_, auditorEmail := a.staffMember(staff.Auditor, "auditor")
		_, marketerEmail := a.staffMember(staff.Marketer, "marketer")
		ids := []string{a.inbound(channels.Devbox, "", "+8613600000001", "一"), a.inbound(channels.Devbox, "", "+8613600000002", "二"),
			a.inbound(channels.Devbox, "", "+8613600000003", "三")}
		w := a.newWebClient()
		w.login(email, testPassword)

		w.get("/tickets/" + ids[0])
		if resp, _ := w.post("/tickets/"+ids[0]+"/reply", url.Values{"text": {"收到"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d", resp.StatusCode)
		}
		if got := a.ticketOf(ids[0]).AssigneeID; got != me.ID {
			t.Fatalf("after the reply the ticket is %q's", got)
		}
		_, body := w.get("/tickets/" + ids[1])
		if !strings.Contains(body, `id="assign-me"`) || !strings.Contains(body, `id="reply-channels"`) {
			t.Fatalf("ticket page lacks assign-to-me or the reply channels\n%s", body)
		}
		if resp, _ := w.post("/tickets/"+ids[1]+"/update", url.Values{"assignee_id": {me.ID}}); resp.StatusCode != http.StatusSeeOther ||
			a.ticketOf(ids[1]).AssigneeID != me.ID {
			t.Fatalf("assign to me: %d", resp.StatusCode)
		}
		if _, body := w.get("/tickets/" + ids[1]); strings.Contains(body, `id="assign-me"`) {
			t.Fatal("assign-to-me offered on my own ticket")
		}

		// Bad submissions say what is wrong, in the member's language.
		_, queue := w.get("/tickets")
		if !strings.Contains(queue, `id="bulk-form"`) || !strings.Contains(queue, `form="bulk-form"`) {
			t.Fatalf("queue lacks the bulk form\n%s", queue)
		}
		for _, c := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"action": {"resolve"}}, "请先勾选至少一个工单"},
			{url.Values{"id": {ids[2]}, "action": {"explode"}}, "请选择要对勾选工单执行的操作"},
			{url.Values{"id": {ids[2]}, "action": {"categorise"}, "category": {"nonsense"}}, "请选择一个分类"},
		} {
			if resp, body := w.post("/tickets/bulk", c.form); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, c.want) {
				t.Fatalf("bulk %v: %d (want 400 %q)\n%s", c.form, resp.StatusCode, c.want, body)
			}
		}
		many := url.Values{"action": {"resolve"}}
		for i := range 101 {
			many.Add("id", fmt.Sprintf("T%025d", i))
		}
		if resp, _ := w.post("/tickets/bulk", many); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("101 tickets: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/tickets/bulk", url.Values{"csrf": {"forged"}, "id": {ids[2]}, "action": {"resolve"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("bulk without CSRF: %d", resp.StatusCode)
		}

		// Assign to a colleague, categorise, resolve.
		resp, _ := w.post("/tickets/bulk", url.Values{"id": {ids[1], ids[2]}, "action": {"assign"}, "assignee_id": {other.ID},
			"return": {"view=unassigned"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "view=unassigned") ||
			a.ticketOf(ids[1]).AssigneeID != other.ID || a.ticketOf(ids[2]).AssigneeID != other.ID {
			t.Fatalf("bulk assign: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp, _ := w.post("/tickets/bulk", url.Values{"id": {ids[1]}, "action": {"assign"}, "assignee_id": {"nobody"}}); resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("assign to nobody: %d", resp.StatusCode)
		}
		w.post("/tickets/bulk", url.Values{"id": {ids[1], ids[2]}, "action": {"categorise"}, "category": {feedback.CategoryComplaint}})
		if a.ticketOf(ids[2]).Category != feedback.CategoryComplaint {
			t.Fatal("bulk categorise did not change the category")
		}
		resp, _ = w.post("/tickets/bulk", url.Values{"id": {ids[0], ids[1], ids[2]}, "action": {"resolve"}})
		if loc := resp.Header.Get("Location"); !strings.Contains(loc, "done=bulk_done") || !strings.Contains(loc, "n=3") {
			t.Fatalf("bulk resolve went to %s", loc)
		}
		for _, id := range ids {
			if st := a.ticketOf(id).Status; st != feedback.StatusResolved {
				t.Fatalf("ticket %s is %s", id, st)
			}
		}
		if _, body := w.get("/tickets?done=bulk_done&n=3"); !strings.Contains(body, `id="bulk-result"`) || !strings.Contains(body, "已处理工单数： 3") {
			t.Fatalf("queue after bulk lacks the result\n%s", body)
		}
		if n := len(a.auditActions("ticket.bulk")); n != 3 {
			t.Fatalf("%d ticket.bulk entries; want 3", n)
		}

		// Roles that do not work tickets may not.
		for _, e := range []string{auditorEmail, marketerEmail} {
			ow := a.newWebClient()
			ow.login(e, testPassword)
			ow.get("/account")
			if resp, _ := ow.post("/tickets/bulk", url.Values{"id": {ids[0]}, "action": {"resolve"}}); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s bulk: %d", e, resp.StatusCode)
			}
		}
	})
}

// TestTicketSearchAndSavedFilters: search by phone, email, name (whole
// names only for a role that may not reveal) and ticket number, audited;
// dates are checked; saved filters are each member's and never keep the
// search box.
func TestTicketSearchAndSavedFilters(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		a.importAndWait(a.tokenFor(staff.Admin), []byte("姓名,手机,邮箱\n张三,13812345678,zhang@example.com\n李四,13900001111,li@example.com\n"))
		zhang, li := a.customerByPhone("13812345678"), a.customerByPhone("13900001111")
		t1 := a.inbound(channels.Devbox, zhang, "", "张三的问题")
		t2 := a.inbound(channels.Devbox, li, "", "李四的问题")
		me, email := a.staffMember(staff.Agent, "agent")
		_, auditorEmail := a.staffMember(staff.Auditor, "auditor")
		w := a.newWebClient()
		w.login(email, testPassword)

		for _, c := range []struct{ q, want, not string }{
			{"13812345678", t1, t2},
			{"li@example.com", t2, t1},
			{"张", t1, t2}, // part of a name: the agent may reveal
		} {
			resp, body := w.get("/tickets?q=" + url.QueryEscape(c.q))
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="row-`+c.want+`"`) || strings.Contains(body, `id="row-`+c.not+`"`) ||
				!strings.Contains(body, `id="search-note"`) {
				t.Fatalf("search %q: %d want %s not %s\n%s", c.q, resp.StatusCode, c.want, c.not, between(body, `<tbody>`, "</tbody>"))
			}
			if strings.Contains(body, "13812345678") && c.q != "13812345678" || strings.Contains(body, "张三的") == false && c.want == t1 {
				t.Fatalf("search %q shows unmasked data or no preview\n%s", c.q, body)
			}
		}
		if n := len(a.auditActions("ticket.search")); n != 3 {
			t.Fatalf("%d ticket.search entries", n)
		}
		if resp, _ := w.get("/tickets?q=" + strings.ToLower(t2)); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+t2 {
			t.Fatalf("ticket number: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		if _, body := w.get("/tickets?q=01ARZ3NDEKTSV4RRFFQ69G5FAV"); !strings.Contains(body, "没有此编号的工单") || strings.Contains(body, `id="row-`) {
			t.Fatalf("unknown ticket number\n%s", body)
		}
		if resp, body := w.get("/tickets?from=2026-02-30"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "日期格式") {
			t.Fatalf("bad date: %d", resp.StatusCode)
		}
		today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
		if _, body := w.get("/tickets?from=" + today + "&to=" + today); !strings.Contains(body, `id="row-`+t1+`"`) {
			t.Fatalf("today's tickets missing\n%s", body)
		}
		if _, body := w.get("/tickets?to=2020-01-01"); strings.Contains(body, `id="row-`) {
			t.Fatal("tickets before 2020 found")
		}

		// The auditor may not reveal: part of a name finds nobody, the
		// whole name does.
		aw := a.newWebClient()
		aw.login(auditorEmail, testPassword)
		if _, body := aw.get("/tickets?q=" + url.QueryEscape("张")); strings.Contains(body, `id="row-`) || !strings.Contains(body, "仅匹配完整姓名") {
			t.Fatalf("auditor's partial name search\n%s", body)
		}
		if _, body := aw.get("/tickets?q=" + url.QueryEscape("张三")); !strings.Contains(body, `id="row-`+t1+`"`) ||
			strings.Contains(body, `form="bulk-form"`) || strings.Contains(body, `id="bulk-form"`) {
			t.Fatalf("auditor's whole name search (rows, no bulk form)\n%s", body)
		}

		// Saved filters.
		w.get("/tickets")
		if resp, body := w.post("/tickets/filters", url.Values{"name": {""}, "category": {"complaint"}}); resp.StatusCode != http.StatusBadRequest ||
			!strings.Contains(body, "名称") {
			t.Fatalf("nameless filter: %d", resp.StatusCode)
		}
		resp, _ := w.post("/tickets/filters", url.Values{"name": {"张三的投诉"}, "category": {"general"}, "q": {"13812345678"}, "from": {"2026-01-01"}})
		if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), "13812345678") {
			t.Fatalf("save filter: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		saved, err := a.tickets.SavedFilters(ctx, me.ID)
		if err != nil || len(saved) != 1 || saved[0].Query != "category=general&from=2026-01-01" {
			t.Fatalf("saved: %+v, %v", saved, err)
		}
		if _, body := w.get("/tickets"); !strings.Contains(body, "张三的投诉") || !strings.Contains(body, `href="/tickets?category=general&amp;from=2026-01-01"`) {
			t.Fatalf("queue lacks the saved filter\n%s", body)
		}
		if _, body := aw.get("/tickets"); strings.Contains(body, "张三的投诉") {
			t.Fatal("another member sees the saved filter")
		}
		if resp, _ := aw.post("/tickets/filters/"+saved[0].ID+"/delete", nil); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("deleting another's filter: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/tickets/filters/"+saved[0].ID+"/delete", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", resp.StatusCode)
		}
		if resp, _ := w.post("/tickets/filters", url.Values{"csrf": {"forged"}, "name": {"x"}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("save without CSRF: %d", resp.StatusCode)
		}
	})
}

// sendNotice sends a transfer notice to every customer through the
// devbox and waits for the campaign to complete.
func (a *app) sendNotice(token string) {
	a.t.Helper()
	ctx := context.Background()
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		a.t.Fatal(err)
	}
	list, _ := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	a.runNoticeCampaign(token, tr.ID, list[0].ID)
}

// grantAndOptOut records that the customer agreed to the first transfer's
// 订单履行 and opted out of marketing by SMS.
func (a *app) grantAndOptOut(customerID string) {
	a.t.Helper()
	ctx := context.Background()
	trs, _ := a.transfers.FindTransfers(ctx)
	if _, err := a.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: customerID, TransferID: trs[0].ID, Purpose: "订单履行",
		Decision: customers.ConsentGranted, Source: customers.SourceStaff, Actor: "staff:test"}}); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.customers.AddOptOuts(ctx, customerID, []customers.OptOut{{Channel: channels.SMS, Kind: customers.OptOutPromotional}}, "staff", "staff:test"); err != nil {
		a.t.Fatal(err)
	}
}

// TestTicketCustomerPanel: beside the conversation, the customer's
// consent per purpose, opt-outs, corrections and latest campaign messages
// with whether they opened them, masked, and the access audited; a rejected
// correction's reason goes to the customer (here the devbox) and shows on
// their portal details page.
func TestTicketCustomerPanel(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin := a.tokenFor(staff.Admin)
		a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n"))
		customerID := a.customerByPhone("13812345678")
		a.sendNotice(admin)
		sent, _ := a.devbox.Find(ctx, "", 10)
		if len(sent) != 1 {
			t.Fatalf("devbox: %+v", sent)
		}
		link := "/l/" + between(sent[0].Text, "/l/", " ")
		link = strings.TrimRight(link, "。.")
		v := a.visitor()
		if code, _ := v.get(link); code != http.StatusOK && code != http.StatusSeeOther {
			t.Fatalf("open link %s: %d", link, code)
		}
		deliveries, _ := a.campaigns.FindCustomerDeliveries(ctx, customerID, 5)
		if len(deliveries) != 1 {
			t.Fatalf("deliveries %+v", deliveries)
		}
		a.grantAndOptOut(customerID)
		correction := a.correction(customerID, "上海市浦东新区世纪大道100号")
		id := a.inbound(channels.Devbox, customerID, "", "我要改地址")

		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		_, body := w.get("/tickets/" + id)
		panel := between(body, `id="customer-facts"`, "</section>")
		for _, want := range []string{"订单履行", "同意", "短信", "营销消息", "等待审核", "交接告知", "已打开"} {
			if !strings.Contains(panel, want) {
				t.Fatalf("panel lacks %q\n%s", want, panel)
			}
		}
		if strings.Contains(panel, "世纪大道") || strings.Contains(body, "13812345678") || strings.Contains(body, "张三") {
			t.Fatalf("panel shows unmasked data\n%s", panel)
		}
		if n := len(a.auditActions("customer.panel")); n != 1 {
			t.Fatalf("%d customer.panel entries", n)
		}

		// Reject the correction with a reason: the customer gets it.
		w.get("/corrections")
		resp, _ := w.post("/corrections/"+correction+"/reject", url.Values{"reason": {"地址不完整，请补充门牌号"}})
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "rejected_told") {
			t.Fatalf("reject: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		sent, _ = a.devbox.Find(ctx, "", 10)
		if len(sent) != 2 || !strings.Contains(sent[0].Text, "地址不完整，请补充门牌号") || !strings.Contains(sent[0].Text, "未获通过") {
			t.Fatalf("devbox after the rejection: %+v", sent)
		}
		// Rejecting again tells nobody twice.
		w.get("/corrections?status=rejected")
		w.post("/corrections/"+correction+"/reject", url.Values{"reason": {"地址不完整，请补充门牌号"}})
		if again, _ := a.devbox.Find(ctx, "", 10); len(again) != 2 {
			t.Fatalf("a second rejection sent again: %d messages", len(again))
		}
		// The portal's details page shows it.
		code, page := v.get(strings.TrimSuffix(link, "/") + "/details")
		if code != http.StatusOK || !strings.Contains(page, `id="rejected-reason"`) || !strings.Contains(page, "地址不完整，请补充门牌号") {
			t.Fatalf("portal details: %d\n%s", code, page)
		}
		// The panel shows the outcome and its reason.
		if _, body := w.get("/tickets/" + id); !strings.Contains(between(body, `id="customer-facts"`, "</section>"), "地址不完整") {
			t.Fatal("panel lacks the rejection's reason")
		}
	})
}

// TestCorrectionRejectAPITells: the API's rejection says whether the
// customer was told, and a customer no channel reaches is rejected
// untold.
func TestCorrectionRejectAPITells(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	customerID := a.oneCustomer()
	id := a.correction(customerID, "北京市")
	agent := a.tokenFor(staff.Agent)
	var out struct {
		Status       string `json:"status"`
		CustomerTold *bool  `json:"customer_told"`
	}
	if code := a.postJSON("/api/v1/corrections/"+id+"/reject", agent, `{"reason":"地址不完整"}`, &out); code != http.StatusOK ||
		out.Status != "rejected" || out.CustomerTold == nil || !*out.CustomerTold {
		t.Fatalf("reject: %d %+v", code, out)
	}
	if code := a.postJSON("/api/v1/corrections/"+id+"/reject", agent, `{"reason":"地址不完整"}`, &out); code != http.StatusOK || *out.CustomerTold {
		t.Fatalf("reject again: %d %+v", code, out)
	}
}

// TestTicketReplyImpossibleSaysWhy: a ticket whose sender left no address
// offers no reply box but says why, channel by channel, in the reader's
// language; a reply posted anyway is a clear 400.
func TestTicketReplyImpossibleSaysWhy(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	id := a.inbound(channels.Devbox, "", "", "没有地址的消息")
	m := &staff.Member{Email: "agent@example.com", Name: "agent", Role: staff.Agent, Locale: "en"}
	if err := a.staff.CreateMember(context.Background(), m, testPassword, "test"); err != nil {
		t.Fatal(err)
	}
	w := a.newWebClient()
	w.login(m.Email, testPassword)
	_, body := w.get("/tickets/" + id)
	if strings.Contains(body, `id="reply-form"`) || !strings.Contains(body, `id="no-reply"`) ||
		!strings.Contains(body, "address was not kept with this ticket") {
		t.Fatalf("ticket page\n%s", between(body, `<section class="conversation"`, "</section>"))
	}
	if resp, _ := w.post("/tickets/"+id+"/reply", url.Values{"text": {"hello"}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("reply without an address: %d", resp.StatusCode)
	}
}
