package feedback_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// TestOptOutByWeChatAndEmail: "退订" by WeChat and "unsubscribe" by email
// follow the same model as SMS: promotional messages and surveys on that
// channel stop, the rest stays, and the confirmation the provider
// received says exactly that.
func TestOptOutByWeChatAndEmail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		wx := wechatfake.New(t)
		wc, err := wechat.New(wechat.Config{AppID: wx.AppID, AppSecret: wx.AppSecret, Token: wx.Token, EncodingAESKey: wx.EncodingAESKey,
			APIBase: wx.URL(), HTTPTimeout: time.Second}, e.q.Redis, "handover:test:")
		if err != nil {
			t.Fatal(err)
		}
		sink := smtptest.New(t)
		mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <notice@example.com>", Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = mail.Close() })
		e.svc = e.service(map[channels.Name]channels.Channel{channels.WeChat: wc, channels.Email: mail}, "")

		e.message(channels.WeChat, "张三", "退订")
		if sent := wx.Sent(); len(sent) != 1 || sent[0].ToUser != "oZhang" || sent[0].Text != feedback.OptOutConfirmation(channels.WeChat, "zh-CN") {
			t.Fatalf("wechat confirmation %+v", sent)
		}
		e.message(channels.Email, "张三", "Unsubscribe")
		if sink.Count() != 1 || sink.Messages()[0].To[0] != "zhang@example.com" {
			t.Fatalf("email confirmation: %d messages", sink.Count())
		}
		var want []customers.OptOut
		for _, ch := range []channels.Name{channels.WeChat, channels.Email} {
			want = append(want, customers.OptOutsOf(ch, customers.ReplyOptOutKinds)...)
		}
		if got, err := e.cs.OptOuts(ctx, e.customer("张三")); err != nil || !slices.Equal(got, want) {
			t.Fatalf("opt-outs %v, %v; want %v", got, err, want)
		}
	})
}
