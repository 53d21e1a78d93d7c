package feedback_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// providers is a service on the real WeChat and Aliyun SDKs against their
// fakes and a real SMTP server in the test process.
type providers struct {
	wx   *wechatfake.Server
	sms  *smsfake.Server
	sink *smtptest.Sink
}

func (e *env) withProviders() providers {
	e.t.Helper()
	p := providers{wx: wechatfake.New(e.t), sms: smsfake.New(e.t), sink: smtptest.New(e.t)}
	wc, err := wechat.New(wechat.Config{AppID: p.wx.AppID, AppSecret: p.wx.AppSecret, Token: p.wx.Token, EncodingAESKey: p.wx.EncodingAESKey,
		APIBase: p.wx.URL(), HTTPTimeout: time.Second}, e.q.Redis, "handover:test:")
	if err != nil {
		e.t.Fatal(err)
	}
	sc, err := sms.New(p.sms.Config())
	if err != nil {
		e.t.Fatal(err)
	}
	mail, err := email.New(email.Config{SMTPURL: p.sink.URL(), From: "Handover <service@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = mail.Close() })
	e.svc = e.service(map[channels.Name]channels.Channel{channels.WeChat: wc, channels.SMS: sc, channels.Email: mail}, "SMS_REPLY_1")
	return p
}

func sender(a channels.Address) func(*channels.InboundEvent) {
	return func(ev *channels.InboundEvent) { ev.From = a }
}

// lastTicket is the newest ticket (of anyone).
func (e *env) lastTicket() string {
	e.t.Helper()
	all := e.tickets("")
	return all[len(all)-1].ID
}

// TestReplyToUnknownSenders: a ticket from an unknown WeChat user, phone
// or email address gets a reply through the real channel at the address
// the sender wrote from: a customer-service message inside the 48-hour
// window (refused after it), the ticket SMS template, an email threaded
// under theirs.
func TestReplyToUnknownSenders(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		p := e.withProviders()

		e.message(channels.WeChat, "", "你好，我是新客户", sender(channels.Address{OpenID: "oStranger"}))
		wxTicket := e.lastTicket()
		m, err := e.svc.Reply(ctx, wxTicket, "agent1", "您好，请问有什么可以帮您？", "")
		if err != nil || m.Channel != channels.WeChat || m.DeliveryStatus != "sent" {
			t.Fatalf("wechat reply: %+v, %v", m, err)
		}
		if sent := p.wx.Sent(); len(sent) != 1 || sent[0].API != "custom" || sent[0].ToUser != "oStranger" || sent[0].Text != "您好，请问有什么可以帮您？" {
			t.Fatalf("wechat sent %+v", sent)
		}
		if e.auditCount("ticket.reply", wxTicket) != 1 {
			t.Fatal("reply not audited")
		}

		e.message(channels.SMS, "", "请回电", sender(channels.Address{Phone: "+8613511112222"}))
		m, err = e.svc.Reply(ctx, e.lastTicket(), "agent1", "我们稍后联系您。", "")
		if err != nil || m.Channel != channels.SMS || m.DeliveryStatus != "sent" {
			t.Fatalf("sms reply: %+v, %v", m, err)
		}
		if msgs := p.sms.Messages(); len(msgs) != 1 || msgs[0].TemplateCode != "SMS_REPLY_1" || msgs[0].Params["content"] != "我们稍后联系您。" ||
			!strings.HasSuffix(msgs[0].Phone, "13511112222") {
			t.Fatalf("sms sent %+v", msgs)
		}

		e.message(channels.Email, "", "Where is my invoice?", sender(channels.Address{Email: "someone@other.example"}), func(ev *channels.InboundEvent) {
			ev.MessageID, ev.Subject = "abc-123@mail.other.example", "回复：Invoice 2026-11"
		})
		mailTicket := e.lastTicket()
		if m, err = e.svc.Reply(ctx, mailTicket, "agent1", "It was sent yesterday.", ""); err != nil || m.Channel != channels.Email || m.DeliveryStatus != "sent" {
			t.Fatalf("email reply: %+v, %v", m, err)
		}
		got := p.sink.Messages()
		if len(got) != 1 || got[0].To[0] != "someone@other.example" {
			t.Fatalf("sink %+v", got)
		}
		h := got[0].Header()
		if h.Get("In-Reply-To") != "<abc-123@mail.other.example>" || h.Get("References") != "<abc-123@mail.other.example>" ||
			got[0].Subject() != "Re: Invoice 2026-11" {
			t.Fatalf("not threaded: In-Reply-To %q, References %q, Subject %q", h.Get("In-Reply-To"), h.Get("References"), got[0].Subject())
		}

		// After 48 hours WeChat's customer-service window is closed; the
		// sender can be reached no other way.
		e.advance(49 * time.Hour)
		if _, err := e.svc.Reply(ctx, wxTicket, "agent1", "还在吗？", ""); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("wechat reply after the window: %v", err)
		}
		if len(p.wx.Sent()) != 1 {
			t.Fatal("sent outside the window")
		}
	})
}

// TestEmailReplyThreads: a customer's email reply to staff threads under
// the customer's last email on the ticket.
func TestEmailReplyThreads(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dbtest.SQLite(t), "")
	p := e.withProviders()
	e.message(channels.Email, "李四", "发票呢？", func(ev *channels.InboundEvent) {
		ev.MessageID, ev.Subject = "first@li.example", "Re: 您的账户已转移"
	})
	e.message(channels.Email, "李四", "还没收到", func(ev *channels.InboundEvent) {
		ev.MessageID, ev.Subject = "second@li.example", "Re: 您的账户已转移"
	})
	tk := e.tickets("李四")[0]
	if _, err := e.svc.Reply(ctx, tk.ID, "agent1", "已寄出。", ""); err != nil {
		t.Fatal(err)
	}
	got := p.sink.Messages()
	if len(got) != 1 || got[0].Header().Get("In-Reply-To") != "<second@li.example>" || got[0].Subject() != "Re: 您的账户已转移" {
		t.Fatalf("sink %+v", got)
	}
}

// TestLinkBindsSender: linking an unmatched ticket proposes binding the
// address the sender wrote from; with staff's confirmation it is bound
// (audited) and the customer is then found by it. An address bound to
// another customer, or a customer with a different one, refuses the link
// with a clear message and changes nothing.
func TestLinkBindsSender(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.WeChat, "", "我是王五", sender(channels.Address{OpenID: "oWangNew"}))
		tk := e.lastTicket()
		p, err := e.svc.ProposeBinding(ctx, tk, e.customer("王五"))
		if err != nil || p == nil || p.Kind != "wechat" || p.Problem != "" || p.Bound || strings.Contains(p.Masked, "WangNew") {
			t.Fatalf("proposal %+v, %v", p, err)
		}
		if _, err := e.svc.LinkCustomer(ctx, tk, e.customer("王五"), "staff:agent", true); err != nil {
			t.Fatal(err)
		}
		if id, _ := e.cs.MatchContact(ctx, "oWangNew", "", ""); id != e.customer("王五") {
			t.Fatalf("openid finds %q", id)
		}
		if e.auditCount("customer.bind_address", e.customer("王五")) != 1 {
			t.Fatal("bind not audited")
		}

		// 张三's openid, from a message the inbox did not match: refused.
		e.message(channels.WeChat, "", "hi", sender(channels.Address{OpenID: "oZhang"}))
		tk2 := e.lastTicket()
		if p, err := e.svc.ProposeBinding(ctx, tk2, e.customer("李四")); err != nil || p.Problem == "" {
			t.Fatalf("proposal of another customer's openid: %+v, %v", p, err)
		}
		_, err = e.svc.LinkCustomer(ctx, tk2, e.customer("李四"), "staff:agent", true)
		if !errors.Is(err, customers.ErrAddressTaken) || !strings.Contains(handover.ErrorMessage(err), "another customer") {
			t.Fatalf("binding another customer's openid: %v", err)
		}
		if tickets := e.tickets("李四"); len(tickets) != 0 {
			t.Fatal("a refused link linked the ticket")
		}
		// 李四 has a phone: a different one is not bound by a link.
		e.message(channels.SMS, "", "我是李四", sender(channels.Address{Phone: "+8613600001234"}))
		if _, err := e.svc.LinkCustomer(ctx, e.lastTicket(), e.customer("李四"), "staff:agent", true); !errors.Is(err, customers.ErrHasOther) {
			t.Fatalf("replacing 李四's phone: %v", err)
		}
		if c, _ := e.cs.FindCustomerByID(ctx, e.customer("李四")); c.Phone != "+8613900001111" {
			t.Fatalf("李四's phone is %q", c.Phone)
		}
		// Linked without binding, the ticket's replies go to the customer's record.
		if _, err := e.svc.LinkCustomer(ctx, e.lastTicket(), e.customer("李四"), "staff:agent", false); err != nil {
			t.Fatal(err)
		}
	})
}
