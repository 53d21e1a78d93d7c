package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
)

type ticketResp struct {
	ID         string   `json:"id"`
	CustomerID string   `json:"customer_id"`
	Status     string   `json:"status"`
	Priority   string   `json:"priority"`
	Category   string   `json:"category"`
	AssigneeID string   `json:"assignee_id"`
	Tags       []string `json:"tags"`
	Messages   []struct {
		Direction, Channel, Text string
		DeliveryStatus           string `json:"delivery_status"`
		ChannelReason            string `json:"channel_reason"`
	} `json:"messages"`
}

// TestTicketAPI walks the ticket API with each role: auditors read,
// agents work tickets, admins also edit rules and canned replies,
// marketers see nothing.
func TestTicketAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		admin, agent, auditor, marketer := a.tokenFor(staff.Admin), a.tokenFor(staff.Agent), a.tokenFor(staff.Auditor), a.tokenFor(staff.Marketer)
		a.importAndWait(admin, []byte("姓名,手机\n张三,13812345678\n"))
		var cs struct {
			Data []struct{ ID string } `json:"data"`
		}
		a.getJSON("/api/v1/customers", admin, &cs)
		if len(cs.Data) != 1 {
			t.Fatalf("%d customers", len(cs.Data))
		}
		err := a.tickets.HandleInboundEvent(context.Background(), channels.InboundEvent{ID: ulid.Make().String(), Channel: channels.Devbox,
			Kind: channels.EventMessage, Text: "地址变更：<script>alert(1)</script>", CustomerID: cs.Data[0].ID})
		if err != nil {
			t.Fatal(err)
		}

		var list struct {
			Data       []ticketResp `json:"data"`
			NextCursor string       `json:"next_cursor"`
		}
		if code := a.getJSON("/api/v1/tickets", marketer, nil); code != http.StatusForbidden {
			t.Fatalf("marketer list: %d", code)
		}
		if code := a.getJSON("/api/v1/tickets?category=correction", auditor, &list); code != http.StatusOK || len(list.Data) != 1 {
			t.Fatalf("auditor list: %d, %d tickets", code, len(list.Data))
		}
		id := list.Data[0].ID
		var tk ticketResp
		if code := a.getJSON("/api/v1/tickets/"+id, auditor, &tk); code != http.StatusOK || len(tk.Messages) != 1 ||
			tk.Messages[0].Text != "地址变更：<script>alert(1)</script>" {
			t.Fatalf("auditor view: %d, %+v", code, tk)
		}
		patch := func(token, body string, out any) int {
			return a.do(http.MethodPatch, "/api/v1/tickets/"+id, token, "application/json", strings.NewReader(body), out).StatusCode
		}
		for _, c := range []struct{ path, body string }{{"/replies", `{"text":"hi"}`}, {"/notes", `{"text":"hi"}`}, {"/merge", `{"into":"x"}`}} {
			if code := a.postJSON("/api/v1/tickets/"+id+c.path, auditor, c.body, nil); code != http.StatusForbidden {
				t.Fatalf("auditor %s: %d", c.path, code)
			}
		}
		if code := patch(auditor, `{"status":"open"}`, nil); code != http.StatusForbidden {
			t.Fatalf("auditor patch: %d", code)
		}

		var me struct {
			ID string `json:"id"`
		}
		a.getJSON("/api/v1/me", agent, &me)
		if code := patch(agent, `{"assignee_id":"`+me.ID+`","priority":"high","tags":["地址"]}`, &tk); code != http.StatusOK ||
			tk.AssigneeID != me.ID || tk.Priority != "high" || len(tk.Tags) != 1 {
			t.Fatalf("agent patch: %d, %+v", code, tk)
		}
		if code := patch(agent, `{"status":"merged"}`, nil); code != http.StatusBadRequest {
			t.Fatalf("patch to merged: %d", code)
		}
		if a.getJSON("/api/v1/tickets?assignee=mine", agent, &list); len(list.Data) != 1 {
			t.Fatalf("mine: %d", len(list.Data))
		}
		if a.getJSON("/api/v1/tickets?assignee=unassigned", agent, &list); len(list.Data) != 0 {
			t.Fatalf("unassigned: %d", len(list.Data))
		}
		var counts struct {
			Open, Mine, Unassigned int
		}
		if code := a.getJSON("/api/v1/tickets/counts", agent, &counts); code != http.StatusOK || counts.Open != 1 || counts.Mine != 1 || counts.Unassigned != 0 {
			t.Fatalf("counts: %d, %+v", code, counts)
		}
		var previews struct {
			Data []struct{ Preview string } `json:"data"`
		}
		if a.getJSON("/api/v1/tickets?preview=true", auditor, &previews); len(previews.Data) != 1 || previews.Data[0].Preview != "地址变更：<script>alert(1)</script>" {
			t.Fatalf("previews %+v", previews)
		}
		if code := a.getJSON("/api/v1/tickets?breached=maybe", agent, nil); code != http.StatusBadRequest {
			t.Fatalf("bad breached: %d", code)
		}

		var msg struct {
			Channel        string `json:"channel"`
			DeliveryStatus string `json:"delivery_status"`
			ChannelReason  string `json:"channel_reason"`
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/replies", agent, `{"text":"您好，请通过链接更正。"}`, &msg); code != http.StatusCreated ||
			msg.Channel != "devbox" || msg.DeliveryStatus != "sent" || msg.ChannelReason == "" {
			t.Fatalf("reply: %d, %+v", code, msg)
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/notes", agent, `{"text":"已电话确认"}`, nil); code != http.StatusCreated {
			t.Fatalf("note: %d", code)
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/merge", agent, `{"into":"`+id+`"}`, nil); code != http.StatusBadRequest {
			t.Fatalf("merge into itself: %d", code)
		}

		// Rules and canned replies: admins edit, agents read.
		rule := `{"name":"发票","keywords":["发票"],"match":"contains","action":"categorize","category":"invoice"}`
		if code := a.postJSON("/api/v1/ticket-rules", agent, rule, nil); code != http.StatusForbidden {
			t.Fatalf("agent creates rule: %d", code)
		}
		var r struct {
			ID      string `json:"id"`
			Enabled *bool  `json:"enabled"`
		}
		if code := a.postJSON("/api/v1/ticket-rules", admin, rule, &r); code != http.StatusCreated || r.ID == "" || r.Enabled == nil || !*r.Enabled {
			t.Fatalf("admin creates rule: %d %+v", code, r)
		}
		var rules struct {
			Data []struct{ ID string } `json:"data"`
		}
		if code := a.getJSON("/api/v1/ticket-rules", agent, &rules); code != http.StatusOK || len(rules.Data) != 6 {
			t.Fatalf("rules: %d, %d", code, len(rules.Data))
		}
		if code := a.do(http.MethodDelete, "/api/v1/ticket-rules/"+r.ID, admin, "", nil, nil).StatusCode; code != http.StatusNoContent {
			t.Fatalf("delete rule: %d", code)
		}
		var canned struct {
			ID string `json:"id"`
		}
		if code := a.postJSON("/api/v1/canned-replies", admin, `{"name":"谢谢","body":"感谢您的反馈，工单 {{ticket_id}} 已处理。"}`, &canned); code != http.StatusCreated {
			t.Fatalf("canned: %d", code)
		}
		if code := a.postJSON("/api/v1/canned-replies", agent, `{"name":"x","body":"y"}`, nil); code != http.StatusForbidden {
			t.Fatalf("agent canned: %d", code)
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/replies", agent, `{"canned_id":"`+canned.ID+`"}`, nil); code != http.StatusCreated {
			t.Fatalf("canned reply: %d", code)
		}
		a.getJSON("/api/v1/tickets/"+id, agent, &tk)
		if len(tk.Messages) != 4 || tk.Messages[3].Text != "感谢您的反馈，工单 "+id+" 已处理。" || tk.Status != "pending" {
			t.Fatalf("conversation %+v", tk)
		}
	})
}
