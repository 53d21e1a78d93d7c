package email

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
)

const testReplyDomain = "reply.example.com"

func parseFixture(t *testing.T, name, envelopeFrom, rcpt string) (channels.InboundEvent, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ParseInbound(f, envelopeFrom, rcpt, testReplyDomain)
}

func TestParseInboundFixtures(t *testing.T) {
	tests := []struct {
		file, envFrom, rcpt string
		want                channels.InboundEvent
	}{
		{"reply_gbk.eml", "li.lei@customer.example", "r-01HXREPLYGBK000000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "gbk-reply-1@mail.customer.example", MessageID: "gbk-reply-1@mail.customer.example", Subject: "回复：您的账户已转移",
			From: channels.Address{Email: "li.lei@customer.example"}, To: "r-01hxreplygbk000000000001@reply.example.com",
			DeliveryID: "01HXREPLYGBK000000000001", ProviderMessageID: "01HXREPLYGBK000000000001@example.com",
			Text: "好的，我同意转移，谢谢。\n请尽快办理。\n\n李雷"}},
		{"reply_qp_utf8.eml", "bounce+x@gmail.example", "r-01HXREPLYQP0000000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "CAqp-reply-2@mail.gmail.example", MessageID: "CAqp-reply-2@mail.gmail.example", Subject: "Re: Your account has moved",
			From: channels.Address{Email: "han.meimei@gmail.example"}, To: "r-01hxreplyqp0000000000001@reply.example.com",
			DeliveryID: "01HXREPLYQP0000000000001", ProviderMessageID: "01HXREPLYQP0000000000001@example.com",
			Text: "Yes, please go ahead — 可以转移。\nThanks!"}},
		{"reply_html_only.eml", "wang@customer.example", "r-01HXREPLYHTML00000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "html-only-3@customer.example", MessageID: "html-only-3@customer.example", Subject: "Re: 账户转移",
			From: channels.Address{Email: "wang@customer.example"}, To: "r-01hxreplyhtml00000000001@reply.example.com",
			DeliveryID: "01HXREPLYHTML00000000001", Text: "收到 & 确认，谢谢！\n王先生"}},
		{"reply_gb2312_outlook.eml", "zhang.san@corp.example", "r-01HXREPLYOUTLOOK00000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "outlook-4@corp.example", MessageID: "outlook-4@corp.example",
			From: channels.Address{Email: "zhang.san@corp.example"}, To: "r-01hxreplyoutlook00000001@reply.example.com",
			DeliveryID: "01HXREPLYOUTLOOK00000001", Text: "同意。"}},
		{"reply_gb18030_foxmail.eml", "zhao6@qq.example", "R-01HXREPLYFOXMAIL00000001@REPLY.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "tencent_5@qq.example", MessageID: "tencent_5@qq.example", Subject: "回复：您的账户已转移",
			From: channels.Address{Email: "zhao6@qq.example"}, To: "r-01hxreplyfoxmail00000001@reply.example.com",
			DeliveryID: "01HXREPLYFOXMAIL00000001", Text: "好的，已确认。"}},
		{"bounce_dsn.eml", "", "r-01HXBOUNCE00000000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventBounce, Status: channels.StatusBounced, ErrorCode: "5.1.1",
			DedupKey: "20240506020300.ABC123@mx.relay.example", From: channels.Address{Email: "nobody@customer.example"},
			To: "r-01hxbounce00000000000001@reply.example.com", DeliveryID: "01HXBOUNCE00000000000001",
			ProviderMessageID: "01HXBOUNCE00000000000001@example.com",
			Text:              "smtp; 550 5.1.1 <nobody@customer.example>: Recipient address rejected: User unknown"}},
		{"bounce_dsn_rfc822.eml", "", "r-01HXVERPONLY000000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventBounce, Status: channels.StatusBounced, ErrorCode: "5.2.2",
			DedupKey: "dsn-7@mx.other.example", From: channels.Address{Email: "full@customer.example"},
			To: "r-01hxverponly000000000001@reply.example.com", DeliveryID: "01HXBOUNCE0000000000RFC82",
			ProviderMessageID: "01HXBOUNCE0000000000RFC82@example.com"}},
		{"bounce_plain.eml", "", "r-01HXPLAINBOUNCE000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventBounce, Status: channels.StatusBounced, ErrorCode: "5.1.10",
			DedupKey: "plain-bounce-9@mail.customer.example", To: "r-01hxplainbounce000000001@reply.example.com",
			DeliveryID: "01HXPLAINBOUNCE000000001"}},
		{"autoreply.eml", "", "r-01HXAUTOREPLY00000000001@reply.example.com", channels.InboundEvent{
			Kind: channels.EventMessage, DedupKey: "ooo-10@customer.example", MessageID: "ooo-10@customer.example", Subject: "Automatic reply: Your account has moved", From: channels.Address{Email: "li.lei@customer.example"},
			To: "r-01hxautoreply00000000001@reply.example.com", DeliveryID: "01HXAUTOREPLY00000000001",
			Text: "I am out of the office until Monday."}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := parseFixture(t, tt.file, tt.envFrom, tt.rcpt)
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Channel = channels.Email
			if tt.want.Kind == channels.EventBounce && tt.file == "bounce_plain.eml" {
				got.Text = "" // the MTA's prose; checked for its status code only
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseInboundDelayAndNoMessageID(t *testing.T) {
	if _, err := parseFixture(t, "dsn_delayed.eml", "", "r-01HXDELAYED0000000000001@reply.example.com"); !errors.Is(err, ErrNothingToRecord) {
		t.Errorf("delay notice: %v, want ErrNothingToRecord", err)
	}
	ev, err := parseFixture(t, "no_message_id.eml", "someone@customer.example", "r-01HXNOMSGID0000000000001@reply.example.com")
	if err != nil || !strings.HasPrefix(ev.DedupKey, "sha256:") || len(ev.DedupKey) != 71 {
		t.Errorf("DedupKey = %q (%v)", ev.DedupKey, err)
	}
	if _, err := ParseInbound(strings.NewReader("no header at all\x00\n"), "a@b", "r-1@reply.example.com", testReplyDomain); err != nil {
		t.Logf("garbage: %v", err) // either is fine, as long as it does not panic
	}
}

func TestTrimQuoted(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Thanks!\n", "Thanks!"},
		{"quoted lines anywhere", "Top\n> q1\n>q2\nBottom", "Top\nBottom"},
		{"on wrote", "Yes.\n\nOn Mon, May 6, 2024 at 10:02 AM Bob <b@x.example> wrote:\n> hi", "Yes."},
		{"on wrote wrapped", "Yes.\nOn Mon, May 6, 2024 at 10:02 AM Bob <\nb@x.example> wrote:\nhi", "Yes."},
		{"chinese wrote", "好\n在 2024年5月6日，Bob 写道：\n原文", "好"},
		{"original message", "OK\n-----Original Message-----\nFrom: a\n", "OK"},
		{"chinese original", "OK\n------------------ 原始邮件 ------------------\n发件人: a", "OK"},
		{"fajianren", "收到\n发件人: Handover\n内容", "收到"},
		{"outlook from block", "Fine\n\nFrom: Handover <n@example.com>\nSent: Monday\nTo: me\n", "Fine"},
		{"outlook underscores", "Fine\n________________________________\nFrom: Handover\nSent: Monday", "Fine"},
		{"from line kept without header block", "From: my phone, yes\nI agree", "From: my phone, yes\nI agree"},
		{"only quotation", "> everything quoted", "> everything quoted"},
		{"crlf", "Yes\r\nOn Tue wrote:\r\nx", "Yes"},
	}
	for _, tt := range tests {
		if got := trimQuoted(tt.in); got != tt.want {
			t.Errorf("%s: trimQuoted(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	in := `<html><head><title>t</title><style>p{}</style></head><body><p>Line&nbsp;one</p><div>Two<br>Three</div><script>x()</script><blockquote>quoted</blockquote><ul><li>a</li><li>b</li></ul>`
	if got, want := htmlToText(in), "Line one\nTwo\nThree\na\nb"; got != want {
		t.Errorf("htmlToText = %q, want %q", got, want)
	}
}

func TestReplyAddress(t *testing.T) {
	addr := ReplyAddress("01HXABC", "Reply.Example.com")
	if addr != "r-01HXABC@reply.example.com" {
		t.Fatalf("ReplyAddress = %q", addr)
	}
	for in, want := range map[string]string{
		addr: "01HXABC", "<R-01HXABC@REPLY.EXAMPLE.COM>": "01HXABC",
		"r-01HXABC@other.example": "", "x-01HXABC@reply.example.com": "", "r-@reply.example.com": "",
		"r-a+b@reply.example.com": "", "reply.example.com": "", "": "",
	} {
		id, ok := DeliveryIDFromAddress(in, "reply.example.com")
		if id != want || ok != (want != "") {
			t.Errorf("DeliveryIDFromAddress(%q) = %q, %v; want %q", in, id, ok, want)
		}
	}
}
