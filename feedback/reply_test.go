package feedback_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// TestChooseChannel is the table of reply channel choices.
func TestChooseChannel(t *testing.T) {
	now := monday10
	all := map[channels.Name]bool{channels.WeChat: true, channels.SMS: true, channels.Email: true}
	everyone := func(r feedback.Reachability) feedback.Reachability {
		r.Now, r.HasOpenID, r.HasPhone, r.HasEmail, r.SMSTemplate = now, true, true, true, true
		if r.Configured == nil {
			r.Configured = all
		}
		return r
	}
	for _, c := range []struct {
		name   string
		r      feedback.Reachability
		want   channels.Name
		reason string // a fragment of the reason; "" when an error is wanted
	}{
		{"wechat inside the window", everyone(feedback.Reachability{LastUsed: channels.WeChat, LastWeChat: now.Add(-47 * time.Hour)}),
			channels.WeChat, "last used"},
		{"wechat window over: sms", everyone(feedback.Reachability{LastUsed: channels.WeChat, LastWeChat: now.Add(-49 * time.Hour)}),
			channels.SMS, "48-hour"},
		{"last used email", everyone(feedback.Reachability{LastUsed: channels.Email}), channels.Email, "last used"},
		{"sms customer, wechat still open from earlier", everyone(feedback.Reachability{LastUsed: channels.SMS, LastWeChat: now.Add(-time.Hour)}),
			channels.SMS, "last used"},
		{"portal survey: wechat window first", everyone(feedback.Reachability{LastUsed: channels.Portal, LastWeChat: now.Add(-time.Hour)}),
			channels.WeChat, "first reachable"},
		{"no sms template: email", func() feedback.Reachability {
			r := everyone(feedback.Reachability{LastUsed: channels.SMS})
			r.SMSTemplate = false
			return r
		}(), channels.Email, "no SMS reply template"},
		{"no phone: email", func() feedback.Reachability {
			r := everyone(feedback.Reachability{LastUsed: channels.WeChat})
			r.HasPhone = false
			return r
		}(), channels.Email, "outside WeChat"},
		{"embedded: devbox", feedback.Reachability{Now: now, LastUsed: channels.Devbox, Configured: map[channels.Name]bool{channels.Devbox: true}},
			channels.Devbox, "last used"},
		{"staff asks for email", everyone(feedback.Reachability{Requested: channels.Email, LastUsed: channels.WeChat, LastWeChat: now}),
			channels.Email, "chosen by staff"},
		{"staff asks for wechat outside the window", everyone(feedback.Reachability{Requested: channels.WeChat}), "", ""},
		{"nothing reachable", feedback.Reachability{Now: now, Configured: all}, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, reason, err := feedback.ChooseChannel(c.r)
			if c.reason == "" {
				if handover.ErrorCode(err) != handover.EINVALID {
					t.Fatalf("got %s (%s), %v; want an error", got, reason, err)
				}
				return
			}
			if err != nil || got != c.want || !strings.Contains(reason, c.reason) {
				t.Fatalf("got %s (%q), %v; want %s (%q)", got, reason, err, c.want, c.reason)
			}
		})
	}
}

// TestReplyChannels sends replies through a real SMTP server and the
// devbox: the channel the customer used when it can carry the reply,
// else the next reachable one, each recorded with its reason and delivery
// status; a receipt moves the status on; a refused address is recorded
// as failed.
func TestReplyChannels(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		sink, mail := mailSink(t)
		e.svc = e.service(map[channels.Name]channels.Channel{channels.Email: mail, channels.Devbox: e.box}, "")

		e.message(channels.Email, "李四", "发票呢？")
		tk := e.tickets("李四")[0]
		m, err := e.svc.Reply(ctx, tk.ID, "agent1", "{{customer_name}}您好，发票已寄出。", "")
		if err != nil {
			t.Fatal(err)
		}
		if m.Channel != channels.Email || m.DeliveryStatus != "sent" || !strings.Contains(m.ChannelReason, "last used") {
			t.Fatalf("reply %+v", m)
		}
		if sink.Count() != 1 || sink.Messages()[0].To[0] != "li@example.com" || !strings.Contains(sink.Messages()[0].Subject(), tk.ID) {
			t.Fatalf("sink: %d messages", sink.Count())
		}
		if got := texts(e.view(tk.ID)); got != "in:发票呢？ | out:李四您好，发票已寄出。" {
			t.Fatalf("conversation %q", got)
		}
		if err := e.svc.HandleInboundEvent(ctx, channels.InboundEvent{Channel: channels.Email, Kind: channels.EventReceipt,
			DeliveryID: m.ID, Status: channels.StatusDelivered}); err != nil {
			t.Fatal(err)
		}
		if got := e.view(tk.ID).Messages[1]; got.DeliveryStatus != "delivered" {
			t.Fatalf("after receipt: %s", got.DeliveryStatus)
		}

		// 王五 wrote by SMS, which is off, and has no email: the devbox.
		e.message(channels.SMS, "王五", "在吗")
		m, err = e.svc.Reply(ctx, e.tickets("王五")[0].ID, "agent1", "在的", "")
		if err != nil || m.Channel != channels.Devbox || !strings.Contains(m.ChannelReason, "sms is not configured") {
			t.Fatalf("reply %+v, %v", m, err)
		}
		if sent, _ := e.box.Find(ctx, m.ID, 1); len(sent) != 1 || sent[0].Text != "在的" {
			t.Fatalf("devbox: %+v", sent)
		}
		// Staff may not pick a channel that cannot reach the customer.
		if _, err := e.svc.Reply(ctx, e.tickets("王五")[0].ID, "agent1", "hi", channels.Email); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("email to a customer without one: %v", err)
		}

		// The SMTP server refuses 张三's address: recorded as failed.
		sink.Reject("zhang@example.com", 550, "5.1.1 User unknown")
		e.message(channels.Email, "张三", "你好")
		m, err = e.svc.Reply(ctx, e.tickets("张三")[0].ID, "agent1", "您好", "")
		if err != nil || m.DeliveryStatus != "failed" || m.DeliveryError == "" {
			t.Fatalf("refused reply %+v, %v", m, err)
		}
		if e.auditCount("ticket.reply", tk.ID) != 1 {
			t.Fatal("reply not audited")
		}
	})
}

// TestCannedReplies: admins keep canned replies; names are unique.
func TestCannedReplies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		c := &feedback.CannedReply{Name: "地址变更", Body: "{{customer_name}}您好，请通过链接更正地址。"}
		if err := e.svc.SaveCannedReply(ctx, c, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.SaveCannedReply(ctx, &feedback.CannedReply{Name: "地址变更", Body: "x"}, "staff:admin"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("duplicate name: %v", err)
		}
		c.Body = "您好，请通过链接更正地址。"
		if err := e.svc.SaveCannedReply(ctx, c, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.FindCannedReplies(ctx)
		if err != nil || len(list) != 1 || list[0].Body != c.Body {
			t.Fatalf("list %+v, %v", list, err)
		}
		if err := e.svc.DeleteCannedReply(ctx, c.ID, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.FindCannedReplyByID(ctx, c.ID); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("after delete: %v", err)
		}
	})
}

// TestReplyThroughProviderFakes drives the real WeChat and Aliyun SDKs
// against the fake providers: a reply inside the 48-hour window is a WeChat
// customer-service message; after it, an SMS under the reply template; an
// opt-out on WeChat is confirmed there.
func TestReplyThroughProviderFakes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		wx := wechatfake.New(t)
		wc, err := wechat.New(wechat.Config{AppID: wx.AppID, AppSecret: wx.AppSecret, Token: wx.Token, EncodingAESKey: wx.EncodingAESKey,
			APIBase: wx.URL(), HTTPTimeout: time.Second}, e.q.Redis, "handover:test:")
		if err != nil {
			t.Fatal(err)
		}
		fake, sc := smsFake(t)
		e.svc = e.service(map[channels.Name]channels.Channel{channels.WeChat: wc, channels.SMS: sc}, "SMS_REPLY_1")

		e.message(channels.WeChat, "张三", "你好，请问新公司在哪？")
		tk := e.tickets("张三")[0]
		m, err := e.svc.Reply(ctx, tk.ID, "agent1", "您好，地址已更新。", "")
		if err != nil || m.Channel != channels.WeChat || m.DeliveryStatus != "sent" {
			t.Fatalf("reply in the window: %+v, %v", m, err)
		}
		if sent := wx.Sent(); len(sent) != 1 || sent[0].API != "custom" || sent[0].ToUser != "oZhang" || sent[0].Text != "您好，地址已更新。" {
			t.Fatalf("wechat sent %+v", sent)
		}
		e.advance(49 * time.Hour)
		m, err = e.svc.Reply(ctx, tk.ID, "agent1", "请问还有其他问题吗？", "")
		if err != nil || m.Channel != channels.SMS || m.DeliveryStatus != "sent" || !strings.Contains(m.ChannelReason, "48-hour") {
			t.Fatalf("reply after the window: %+v, %v", m, err)
		}
		msgs := fake.Messages()
		if len(msgs) != 1 || msgs[0].TemplateCode != "SMS_REPLY_1" || msgs[0].Params["content"] != "请问还有其他问题吗？" || msgs[0].Phone != "13812345678" {
			t.Fatalf("sms sent %+v", msgs)
		}

		e.message(channels.WeChat, "张三", "TD")
		if sent := wx.Sent(); len(sent) != 2 || sent[1].API != "custom" || !strings.Contains(sent[1].Text, "退订") {
			t.Fatalf("opt-out confirmation %+v", sent)
		}
	})
}
