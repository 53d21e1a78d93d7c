package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/staff"
)

// TestUnmatchedTicketReplyAndBind: through the API an agent replies to an
// unknown sender (here by the devbox, at the phone they wrote from), sees
// what linking would bind, and links with the binding: the customer is
// then found by that phone. Binding an address of another customer is
// refused with a clear message. The WeChat bind review list is for
// reviewers only.
func TestUnmatchedTicketReplyAndBind(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		agent, marketer := a.tokenFor(staff.Agent), a.tokenFor(staff.Marketer)
		a.importAndWait(a.tokenFor(staff.Admin), []byte("姓名,邮箱\n赵六,zhao@example.com\n张三,zhang@example.com\n"))
		zhao, _ := a.customers.MatchContact(ctx, "", "", "zhao@example.com")
		zhang, _ := a.customers.MatchContact(ctx, "", "", "zhang@example.com")
		id := a.inbound(channels.Devbox, "", "+8613600001234", "我是赵六，换了手机")

		var msg struct {
			Channel        string `json:"channel"`
			DeliveryStatus string `json:"delivery_status"`
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/replies", agent, `{"text":"收到，请稍候"}`, &msg); code != http.StatusCreated ||
			msg.Channel != "devbox" || msg.DeliveryStatus != "sent" {
			t.Fatalf("reply: %d %+v", code, msg)
		}
		if sent, _ := a.devbox.Find(ctx, "", 10); len(sent) == 0 || sent[0].Text != "收到，请稍候" {
			t.Fatalf("devbox: %+v", sent)
		}

		var prop struct {
			Address *struct {
				Kind, Masked, Problem string
				Bound                 bool
			} `json:"address"`
		}
		if code := a.getJSON("/api/v1/tickets/"+id+"/bind-proposal?customer_id="+zhao, agent, &prop); code != http.StatusOK ||
			prop.Address == nil || prop.Address.Kind != "phone" || prop.Address.Problem != "" || strings.Contains(prop.Address.Masked, "0001234") {
			t.Fatalf("proposal: %d %+v", code, prop.Address)
		}
		if code := a.postJSON("/api/v1/tickets/"+id+"/link", agent, `{"customer_id":"`+zhao+`","bind":true}`, nil); code != http.StatusOK {
			t.Fatalf("link and bind: %d", code)
		}
		if got, _ := a.customers.MatchContact(ctx, "", "+8613600001234", ""); got != zhao {
			t.Fatalf("the phone finds %q", got)
		}
		if n := len(a.auditActions("customer.bind_address")); n != 1 {
			t.Fatalf("%d bind audit entries", n)
		}

		// The same phone writes again about 张三: binding it to 张三 is refused.
		// (Handed to tickets as an unmatched message, as before the binding.)
		other := a.inbound(channels.Devbox, "", "+8613600001234", "x")
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		if code := a.postJSON("/api/v1/tickets/"+other+"/link", agent, `{"customer_id":"`+zhang+`","bind":true}`, &e); code != http.StatusConflict ||
			!strings.Contains(e.Error.Message, "another customer") {
			t.Fatalf("binding 赵六's phone to 张三: %d %+v", code, e)
		}

		if code := a.getJSON("/api/v1/wechat-binds", marketer, nil); code != http.StatusForbidden {
			t.Fatalf("marketer reads the review list: %d", code)
		}
		_, email := a.staffMember(staff.Admin, "admin")
		w := a.newWebClient()
		w.login(email, testPassword)
		if resp, body := w.get("/wechat-binds"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `id="wechat-binds-empty"`) {
			t.Fatalf("review page: %d\n%s", resp.StatusCode, body)
		}
		if resp, _ := w.post("/wechat-binds/nope/approve", url.Values{}); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("approve unknown: %d", resp.StatusCode)
		}
	})
}
