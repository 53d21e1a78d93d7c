package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/web"
)

// openChannels builds the inbox and every channel the configuration turns
// on. With no provider on, the devbox records messages instead, so the
// embedded default works end to end without accounts.
func (m *Main) openChannels(ctx context.Context) error {
	m.Inbox = channels.NewInbox(m.DB, m.Vault, m.Queue, m.Log)
	m.Inbox.Match = func(ctx context.Context, a channels.Address) (string, error) {
		return m.Customers.MatchContact(ctx, a.OpenID, a.Phone, a.Email)
	}
	sent := channels.NewSentLog(m.DB, m.Vault.Index, m.Log)
	m.Inbox.Sent = sent
	// Rights requests from the portal become tickets with an SLA.
	m.Rights.RecordRights = m.Inbox.Record
	noSender := func(channels.Message) string { return "" }
	m.Channels = map[channels.Name]channels.Channel{}
	cc := m.Config.Channels
	// Send rates are shared by every worker process through Redis.
	limiter := channels.NewLimiter(m.Queue.Redis, "handover:rate:")
	limiter.Metrics = channels.NewRateMetrics()
	limiter.Metrics.Init(string(channels.WeChat), string(channels.SMS), string(channels.Email), "campaign")
	m.Limiter = limiter
	if cc.WeChatOn() {
		wc, err := wechat.New(wechat.Config{AppID: cc.WeChatAppID, AppSecret: cc.WeChatAppSecret, Token: cc.WeChatToken,
			EncodingAESKey: cc.WeChatAESKey, APIBase: cc.WeChatAPIBase}, m.Queue.Redis, "handover:wechat:")
		if err != nil {
			return err
		}
		m.WeChat = wc
		m.Channels[channels.WeChat] = channels.NewLogged(channels.NewLimited(wc, limiter, cc.WeChatAppID, cc.WeChatRate), sent, noSender)
	}
	if cc.SMSOn() {
		u, _ := url.Parse(cc.AliyunSMSURL) // checked by config
		sc, err := sms.New(sms.Config{AccessKeyID: cc.AliyunKeyID, AccessKeySecret: cc.AliyunKeySecret,
			Endpoint: u.Host, Scheme: u.Scheme, SignName: cc.SMSSignName})
		if err != nil {
			return err
		}
		m.SMS = sc
		// SMS replies carry the sign name: log it to tie them to their message.
		signName := func(msg channels.Message) string {
			if msg.Template != nil && msg.Template.SignName != "" {
				return msg.Template.SignName
			}
			return cc.SMSSignName
		}
		m.Channels[channels.SMS] = channels.NewLogged(channels.NewLimited(sc, limiter, cc.SMSSignName, cc.SMSRate), sent, signName)
	}
	if cc.EmailOn() {
		ec, err := email.New(m.emailConfig())
		if err != nil {
			return err
		}
		m.Channels[channels.Email] = channels.NewLogged(channels.NewLimited(ec, limiter, "smtp", cc.EmailRate), sent, noSender)
	}
	if len(m.Channels) == 0 {
		m.Devbox = devbox.New(m.DB, m.Vault.Keys, m.Inbox.Record)
		m.Channels[channels.Devbox] = channels.NewLogged(m.Devbox, sent, noSender)
	}
	names := make([]string, 0, len(m.Channels))
	for n := range m.Channels {
		names = append(names, string(n))
	}
	sort.Strings(names)
	m.Log.Info("channels on", "channels", strings.Join(names, ","), "smtp_inbound", cc.SMTPInboundAddr != "")
	return nil
}

func (m *Main) emailConfig() email.Config {
	cc := m.Config.Channels
	return email.Config{SMTPURL: cc.SMTPURL, From: cc.EmailFrom, ReplyDomain: cc.EmailReplyDomain}
}

// hooks are the provider endpoints of the channels that are on.
func (m *Main) hooks() web.Hooks {
	var h web.Hooks
	if m.WeChat != nil {
		h.WeChat = m.WeChat.CallbackHandler(m.Inbox.Record, m.Log)
	}
	if m.Config.Channels.SMSOn() {
		h.SMSReport = sms.ReportHandler(m.Inbox.Record, m.Config.Channels.HookSecret, m.Log)
		h.SMSUp = sms.UpHandler(m.Inbox.Record, m.Config.Channels.HookSecret, m.Log)
	}
	return h
}

// startInboundSMTP starts the listener for email replies and bounces when
// HANDOVER_SMTP_INBOUND_ADDR is set; the returned stop func closes it.
func (m *Main) startInboundSMTP() (stop func(), err error) {
	addr := m.Config.Channels.SMTPInboundAddr
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("inbound SMTP on %s (HANDOVER_SMTP_INBOUND_ADDR): %w", addr, err)
	}
	var tlsConfig *tls.Config
	if cc := m.Config.Channels; cc.SMTPInboundTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cc.SMTPInboundTLSCert, cc.SMTPInboundTLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("inbound SMTP TLS (HANDOVER_SMTP_INBOUND_TLS_CERT, _KEY): %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l := email.NewListener(addr, m.emailConfig(), tlsConfig, m.Inbox.Record, m.Log)
	go func() {
		if err := l.Serve(ln); err != nil {
			m.Log.Error("inbound SMTP stopped", "err", err)
		}
	}()
	return func() { l.Close() }, nil
}

// routeInboundEvents hands every processed inbound event to the services
// that act on it: campaigns first (receipts update deliveries, opt-out
// replies suppress unsent rows), then tickets (messages become tickets).
// Call it once both services are open. A retried event is harmless to
// both: each skips what it already applied.
func (m *Main) routeInboundEvents() {
	m.Inbox.OnEvent = func(ctx context.Context, ev channels.InboundEvent) error {
		if err := m.Campaigns.HandleInboundEvent(ctx, ev); err != nil {
			return err
		}
		return m.Tickets.HandleInboundEvent(ctx, ev)
	}
}
