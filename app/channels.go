package app

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/web"
)

// openChannels builds the inbox and every channel the configuration turns
// on. With no provider on, the devbox records messages instead, so the
// embedded default works end to end without accounts.
func (a *App) openChannels() error {
	sent := channels.NewSentLog(a.DB, a.Vault.Index, a.Log)
	a.Sent = sent
	inbox, err := channels.NewInbox(channels.InboxConfig{DB: a.DB, Vault: a.Vault, Queue: a.Queue, Log: a.Log, Sent: sent,
		Match: func(ctx context.Context, from channels.Address) (string, error) {
			return a.Customers.MatchContact(ctx, from.OpenID, from.Phone, from.Email)
		},
		OnEvent: a.routeInboundEvent})
	if err != nil {
		return err
	}
	a.Inbox = inbox
	// Rights requests from the portal become tickets with an SLA.
	a.Rights.RecordRights = a.Inbox.Record
	noSender := func(channels.Message) string { return "" }
	a.Channels = map[channels.Name]channels.Channel{}
	cc := a.Config.Channels
	// Send rates are shared by every worker process through Redis.
	limiter := channels.NewLimiter(a.Queue.Redis, "handover:rate:")
	limiter.Metrics = channels.NewRateMetrics()
	limiter.Metrics.Init(string(channels.WeChat), string(channels.SMS), string(channels.Email), "campaign")
	a.Limiter = limiter
	if cc.WeChatOn() {
		wc, err := wechat.New(wechat.Config{AppID: cc.WeChatAppID, AppSecret: cc.WeChatAppSecret, Token: cc.WeChatToken,
			EncodingAESKey: cc.WeChatAESKey, APIBase: cc.WeChatAPIBase}, a.Queue.Redis, "handover:wechat:")
		if err != nil {
			return err
		}
		a.WeChat = wc
		a.Channels[channels.WeChat] = channels.NewLogged(channels.NewLimited(wc, limiter, cc.WeChatAppID, cc.WeChatRate), sent, noSender)
	}
	if cc.SMSOn() {
		u, _ := url.Parse(cc.AliyunSMSURL) // checked by config
		sc, err := sms.New(sms.Config{AccessKeyID: cc.AliyunKeyID, AccessKeySecret: cc.AliyunKeySecret,
			Endpoint: u.Host, Scheme: u.Scheme, SignName: cc.SMSSignName})
		if err != nil {
			return err
		}
		a.SMS = sc
		// SMS replies carry the sign name: log it to tie them to their message.
		signName := func(msg channels.Message) string {
			if msg.Template != nil && msg.Template.SignName != "" {
				return msg.Template.SignName
			}
			return cc.SMSSignName
		}
		a.Channels[channels.SMS] = channels.NewLogged(channels.NewLimited(sc, limiter, cc.SMSSignName, cc.SMSRate), sent, signName)
	}
	if cc.EmailOn() {
		ec, err := email.New(a.EmailConfig())
		if err != nil {
			return err
		}
		a.Channels[channels.Email] = channels.NewLogged(channels.NewLimited(ec, limiter, "smtp", cc.EmailRate), sent, noSender)
	}
	if len(a.Channels) == 0 || a.DevboxAlways {
		a.Devbox = devbox.New(a.DB, a.Vault.Keys, a.Inbox.Record)
		a.Channels[channels.Devbox] = channels.NewLogged(a.Devbox, sent, noSender)
	}
	names := make([]string, 0, len(a.Channels))
	for n := range a.Channels {
		names = append(names, string(n))
	}
	sort.Strings(names)
	a.Log.Info("channels on", "channels", strings.Join(names, ","), "smtp_inbound", cc.SMTPInboundAddr != "")
	a.SendCode = rights.ChannelSender(a.Channels, a.Config.SMSCodeTemplate)
	return nil
}

// EmailConfig is the email channel's configuration, for sending and for
// the inbound SMTP listener.
func (a *App) EmailConfig() email.Config {
	cc := a.Config.Channels
	return email.Config{SMTPURL: cc.SMTPURL, From: cc.EmailFrom, ReplyDomain: cc.EmailReplyDomain}
}

// hooks are the provider endpoints of the channels that are on.
func (a *App) hooks() web.Hooks {
	var h web.Hooks
	if a.WeChat != nil {
		h.WeChat = a.WeChat.CallbackHandler(a.Inbox.Record, a.Log)
	}
	if a.Config.Channels.SMSOn() {
		h.SMSReport = sms.ReportHandler(a.Inbox.Record, a.Config.Channels.HookSecret, a.Log)
		h.SMSUp = sms.UpHandler(a.Inbox.Record, a.Config.Channels.HookSecret, a.Log)
	}
	return h
}

// routeInboundEvent hands a processed inbound event to the services that
// act on it: campaigns first (receipts update deliveries, opt-out replies
// suppress unsent rows), then tickets (messages become tickets). The inbox
// calls it once OpenServices has built both. A retried event is harmless
// to both: each skips what it already applied.
func (a *App) routeInboundEvent(ctx context.Context, ev channels.InboundEvent) error {
	if err := a.Campaigns.HandleInboundEvent(ctx, ev); err != nil {
		return err
	}
	return a.Tickets.HandleInboundEvent(ctx, ev)
}
