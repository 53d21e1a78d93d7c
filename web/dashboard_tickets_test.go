package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// untranslated finds a message key shown instead of its text.
var untranslated = regexp.MustCompile(`\b(tickets?|ticket\.status|channel|sla|delivery|corrections|keys|flash)\.[a-z_]+`)

// inbound hands the feedback service a customer's message as the inbox
// would, and returns the ticket it landed on.
func (a *app) inbound(channel channels.Name, customerID, phone, text string) string {
	a.t.Helper()
	ctx := context.Background()
	err := a.tickets.HandleInboundEvent(ctx, channels.InboundEvent{ID: ulid.Make().String(), Channel: channel, Kind: channels.EventMessage,
		Text: text, CustomerID: customerID, From: channels.Address{Phone: phone}})
	if err != nil {
		a.t.Fatal(err)
	}
	f := feedback.Filter{CustomerID: customerID, Sort: "created", Limit: 1}
	if customerID == "" {
		f = feedback.Filter{Sort: "created", Limit: 1}
	}
	list, _, err := a.tickets.FindTickets(ctx, f)
	if err != nil || len(list) == 0 {
		a.t.Fatalf("no ticket for the message: %v", err)
	}
	return list[0].ID
}

// oneCustomer imports 张三 and returns their id.
func (a *app) oneCustomer() string {
	a.t.Helper()
	a.importAndWait(a.tokenFor(staff.Admin), []byte("姓名,手机\n张三,13812345678\n"))
	list, _, err := a.customers.FindCustomers(context.Background(), customers.Filter{Phone: "13812345678"})
	if err != nil || len(list) != 1 {
		a.t.Fatalf("customer: %v", err)
	}
	return list[0].ID
}

// TestDashboardTicketQueue: the queue shows counts and masked rows with
// their preview line, filters, and keeps the teaching empty state for a
// role that reads no tickets.
func TestDashboardTicketQueue(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		customerID := a.oneCustomer()
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		if _, body := w.get("/tickets"); !strings.Contains(body, `id="queue-empty"`) || !strings.Contains(body, `id="count-open">0<`) {
			t.Fatalf("empty queue:\n%s", body)
		}
		id := a.inbound(channels.Devbox, customerID, "", "请问新公司的电话是多少?\n第二行")
		resp, body := w.get("/tickets")
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="row-`+id+`"`) || !strings.Contains(body, "张*") ||
			strings.Contains(body, "张三") || !strings.Contains(body, "请问新公司的电话是多少?") || strings.Contains(body, "第二行") {
			t.Fatalf("queue: %d\n%s", resp.StatusCode, body)
		}
		if untranslated.MatchString(body) {
			t.Fatalf("an untranslated key on the queue\n%s", body)
		}
		if !strings.Contains(body, `id="count-open">1<`) || !strings.Contains(body, `id="count-unassigned">1<`) || !strings.Contains(body, "sla-") {
			t.Fatalf("counts or SLA missing\n%s", body)
		}
		if len(a.auditActions("ticket.preview")) == 0 {
			t.Fatal("the preview lines are not audited")
		}
		for path, want := range map[string]bool{"/tickets?view=unassigned": true, "/tickets?view=mine": false, "/tickets?channel=sms": false,
			"/tickets?channel=devbox&sort=created": true, "/tickets?status=resolved": false, "/tickets?view=breached": false} {
			resp, body := w.get(path)
			if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="row-`+id+`"`) != want {
				t.Errorf("%s: %d, row shown = %t; want %t", path, resp.StatusCode, !want, want)
			}
		}
		if resp, _ := w.get("/tickets?status=bogus"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("bad status filter: %d", resp.StatusCode)
		}
		// The live list asks for one row, rendered with the page's filter.
		if resp, body := w.get("/tickets/" + id + "/row?view=unassigned"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(body, "<tr") {
			t.Fatalf("row: %d %s", resp.StatusCode, body)
		}
		if resp, _ := w.get("/tickets/" + id + "/row?view=mine"); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("row outside the filter: %d", resp.StatusCode)
		}

		// English per member, every text translated.
		w.get("/account")
		w.post("/account/preferences", url.Values{"locale": {"en"}, "time_zone": {"Asia/Shanghai"}})
		for _, path := range []string{"/tickets", "/tickets/" + id} {
			if _, body := w.get(path); !strings.Contains(body, "Unassigned") || untranslated.MatchString(body) {
				t.Errorf("%s in English:\n%s", path, body)
			}
		}

		_, memail := a.staffMember(staff.Marketer, "marketer")
		mw := a.newWebClient()
		mw.login(memail, testPassword)
		if resp, body := mw.get("/tickets"); resp.StatusCode != http.StatusOK || strings.Contains(body, "张*") || !strings.Contains(body, "empty") {
			t.Fatalf("marketer queue: %d\n%s", resp.StatusCode, body)
		}
		for _, path := range []string{"/tickets/" + id, "/tickets/" + id + "/row", "/tickets/events", "/corrections"} {
			if resp, _ := mw.get(path); resp.StatusCode != http.StatusForbidden {
				t.Errorf("marketer %s: %d", path, resp.StatusCode)
			}
		}
	})
}

// TestDashboardTicketWork walks a ticket: read (audited), reply with a
// canned reply (variables filled, recorded by the devbox), note, assign,
// reveal with a reason, resolve; every form needs the CSRF token, and an
// auditor reads without forms.
func TestDashboardTicketWork(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		customerID := a.oneCustomer()
		id := a.inbound(channels.Devbox, customerID, "", `<img src=x onerror="alert(1)">地址要改`)
		cr := &feedback.CannedReply{Name: "收到", Body: "{{customer_name}}您好,工单 {{ticket_id}} 已收到。"}
		if err := a.tickets.SaveCannedReply(ctx, cr, "staff:test"); err != nil {
			t.Fatal(err)
		}
		agent, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		resp, body := w.get("/tickets/" + id)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "&lt;img src=x") || strings.Contains(body, "<img src=x") ||
			!strings.Contains(body, `id="reply-form"`) || !strings.Contains(body, `value="`+cr.ID+`"`) || !strings.Contains(body, `id="channel-reason"`) {
			t.Fatalf("ticket: %d\n%s", resp.StatusCode, body)
		}
		if !strings.Contains(body, "张*") || strings.Contains(body, "张三") {
			t.Fatal("the customer panel is not masked")
		}
		if untranslated.MatchString(body) {
			t.Fatalf("an untranslated key on the ticket\n%s", body)
		}
		if len(a.auditActions("ticket.read")) != 1 {
			t.Fatal("reading the ticket is not audited")
		}

		forms := []struct{ path string }{{"/reply"}, {"/note"}, {"/update"}, {"/merge"}, {"/link"}, {"/reveal"}}
		for _, f := range forms {
			if resp, _ := w.post("/tickets/"+id+f.path, url.Values{"csrf": {"forged"}, "text": {"x"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s without CSRF: %d", f.path, resp.StatusCode)
			}
		}

		w.get("/tickets/" + id)
		if resp, body := w.post("/tickets/"+id+"/reply", url.Values{"canned_id": {cr.ID}, "channel": {""}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("reply: %d\n%s", resp.StatusCode, body)
		}
		sent, err := a.devbox.Find(ctx, "", 10)
		if err != nil || len(sent) != 1 || sent[0].Text != "张三您好,工单 "+id+" 已收到。" {
			t.Fatalf("devbox after the reply: %+v, %v", sent, err)
		}
		w.post("/tickets/"+id+"/note", url.Values{"text": {"客户很急"}})
		w.post("/tickets/"+id+"/update", url.Values{"assignee_id": {agent.ID}, "priority": {"high"}})
		_, body = w.get("/tickets/" + id + "?done=updated")
		if !strings.Contains(body, "客户很急") || !strings.Contains(body, "msg-note") || !strings.Contains(body, "msg-out") ||
			!strings.Contains(body, `value="`+agent.ID+`" selected`) || !strings.Contains(body, `value="high" selected`) {
			t.Fatalf("after note and update:\n%s", body)
		}
		if resp, body := w.post("/tickets/"+id+"/reveal", url.Values{"reason": {"客户来电"}}); resp.StatusCode != http.StatusOK ||
			!strings.Contains(body, `id="revealed"`) || !strings.Contains(body, "张三") {
			t.Fatalf("reveal: %d\n%s", resp.StatusCode, body)
		}
		if e := a.auditActions("customer.reveal"); len(e) != 1 || !strings.Contains(e[0].Detail, "客户来电") {
			t.Fatalf("reveal audit: %+v", e)
		}
		if resp, _ := w.post("/tickets/"+id+"/update", url.Values{"status": {"resolved"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("resolve: %d", resp.StatusCode)
		}
		if tk, _ := a.tickets.FindTicketByID(ctx, id); tk.Status != feedback.StatusResolved || tk.AssigneeID != agent.ID {
			t.Fatalf("ticket after the forms: %+v", tk)
		}

		_, aemail := a.staffMember(staff.Auditor, "auditor")
		aw := a.newWebClient()
		aw.login(aemail, testPassword)
		resp, body = aw.get("/tickets/" + id)
		if resp.StatusCode != http.StatusOK || strings.Contains(body, `id="reply-form"`) || strings.Contains(body, `id="reveal-form"`) {
			t.Fatalf("auditor view: %d\n%s", resp.StatusCode, body)
		}
		for _, f := range forms {
			if resp, _ := aw.post("/tickets/"+id+f.path, url.Values{"text": {"x"}, "reason": {"x"}}); resp.StatusCode != http.StatusForbidden {
				t.Errorf("auditor %s: %d", f.path, resp.StatusCode)
			}
		}
	})
}

// TestDashboardTicketLinkAndMerge links an unknown sender's ticket to the
// customer by phone, then merges another unknown ticket into it.
func TestDashboardTicketLinkAndMerge(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		customerID := a.oneCustomer()
		first := a.inbound(channels.SMS, "", "13900001111", "你好,我是张三")
		_, email := a.staffMember(staff.Agent, "agent")
		w := a.newWebClient()
		w.login(email, testPassword)
		if _, body := w.get("/tickets/" + first); !strings.Contains(body, `id="link-form"`) || !strings.Contains(body, `id="reply-form"`) ||
			!strings.Contains(body, `id="note-form"`) || !strings.Contains(body, `id="link-bind"`) || strings.Contains(body, "13900001111") {
			t.Fatalf("unmatched ticket has no link form\n%s", body)
		}
		if resp, body := w.post("/tickets/"+first+"/link", url.Values{"customer": {"138 1234 5678"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("link: %d\n%s", resp.StatusCode, body)
		}
		second := a.inbound(channels.SMS, "", "13900002222", "还是我")
		if second == first {
			t.Fatal("the second unknown message joined the linked ticket")
		}
		w.get("/tickets/" + second)
		resp, _ := w.post("/tickets/"+second+"/merge", url.Values{"into": {first}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tickets/"+first+"?done=merged" {
			t.Fatalf("merge: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		tk, err := a.tickets.ViewTicket(ctx, first, "staff:test")
		if err != nil || tk.CustomerID != customerID || len(tk.Messages) != 2 {
			t.Fatalf("linked and merged ticket: %+v, %v", tk, err)
		}
	})
}

// TestDashboardTicketEvents reads the event stream: a new ticket, the
// navigation's counts after it, and a colleague's "viewing" arrive as
// server-sent events.
func TestDashboardTicketEvents(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	customerID := a.oneCustomer()
	_, email := a.staffMember(staff.Agent, "agent")
	w := a.newWebClient()
	w.login(email, testPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/tickets/events", nil)
	resp, err := w.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := bufio.NewScanner(resp.Body)
	// next returns the data of the next event named name.
	next := func(name string) string {
		event := ""
		for lines.Scan() {
			l := lines.Text()
			if e, ok := strings.CutPrefix(l, "event: "); ok {
				event = e
			}
			if strings.HasPrefix(l, "data: ") && event == name {
				return l
			}
		}
		t.Fatalf("stream ended: %v", lines.Err())
		return ""
	}
	id := a.inbound(channels.Devbox, customerID, "", "在吗")
	if ev := next("ticket"); !strings.Contains(ev, `"type":"created"`) || !strings.Contains(ev, id) || strings.Contains(ev, "在吗") {
		t.Fatalf("event = %s", ev)
	}
	// The navigation's counts follow the change.
	if ev := next("counts"); !strings.Contains(ev, `"open":"1"`) || !strings.Contains(ev, `"unassigned":"1"`) ||
		!strings.Contains(ev, `"cat-general":"1"`) {
		t.Fatalf("counts event = %s", ev)
	}
	_, other := a.staffMember(staff.Agent, "小王")
	ow := a.newWebClient()
	ow.login(other, testPassword)
	ow.get("/tickets/" + id)
	req, _ = http.NewRequest(http.MethodPost, a.url+"/tickets/"+id+"/viewing", nil)
	req.Header.Set("X-CSRF-Token", ow.csrf)
	if resp, _ := ow.send(req); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("viewing: %d", resp.StatusCode)
	}
	if ev := next("ticket"); !strings.Contains(ev, `"type":"viewing"`) || !strings.Contains(ev, `"name":"小王"`) {
		t.Fatalf("viewing event = %s", ev)
	}
}

// TestDashboardTicketPaging pages through the queue with its cursor,
// keeping the filter.
func TestDashboardTicketPaging(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	seedTickets(t, a.db, 1200) // 120 open, 60 of them by SMS
	_, email := a.staffMember(staff.Agent, "agent")
	w := a.newWebClient()
	w.login(email, testPassword)
	seen := map[string]bool{}
	next := "/tickets?channel=sms&done=updated"
	pages := 0
	for ; next != ""; pages++ {
		resp, body := w.get(next)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", next, resp.StatusCode)
		}
		for _, part := range strings.Split(body, `id="row-`)[1:] {
			seen[part[:strings.Index(part, `"`)]] = true
		}
		next = strings.ReplaceAll(between(body, `id="next-page" href="`, `"`), "&amp;", "&")
		if next != "" && (!strings.Contains(next, "channel=sms") || strings.Contains(next, "done=")) {
			t.Fatalf("next page %q lost the filter", next)
		}
	}
	if len(seen) != 60 || pages != 2 {
		t.Fatalf("%d tickets on %d pages; want 60 on 2", len(seen), pages)
	}
}
