package email_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
)

func newChannel(t testing.TB, url string, mod func(*email.Config)) *email.Channel {
	t.Helper()
	cfg := email.Config{SMTPURL: url, From: "Handover 通知 <notice@example.com>", ReplyDomain: "reply.example.com", Timeout: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	ch, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ch.Close() })
	return ch
}

func notice(id, to string) channels.Message {
	return channels.Message{DeliveryID: id, To: channels.Address{Email: to}, Kind: channels.Notice,
		Subject: "Notice " + id, Text: "Hello " + id}
}

func TestSendHeadersAndParts(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), nil)
	msg := channels.Message{
		DeliveryID: "01HXDELIVERY0000000000001", To: channels.Address{Email: "Li.Lei@Customer.example"},
		Kind: channels.Notice, Subject: "您的账户已转移 — 请确认", Text: "你好，李雷\n请点击链接确认。",
		HTML: "<p>你好，<b>李雷</b></p>", UnsubscribeURL: "https://portal.example.com/u/abc?x=1",
	}
	res := ch.Send(context.Background(), []channels.Message{msg})
	if res[0].Err != nil {
		t.Fatalf("send: %v", res[0].Err)
	}
	if res[0].ProviderID != "01HXDELIVERY0000000000001@example.com" || res[0].DeliveryID != msg.DeliveryID {
		t.Errorf("result = %+v", res[0])
	}
	got := sink.Messages()
	if len(got) != 1 {
		t.Fatalf("sink has %d messages", len(got))
	}
	m := got[0]
	if m.From != "r-01HXDELIVERY0000000000001@reply.example.com" || len(m.To) != 1 || m.To[0] != "Li.Lei@Customer.example" {
		t.Errorf("envelope = %q → %q", m.From, m.To)
	}
	h := m.Header()
	for field, want := range map[string]string{
		"Message-Id":            "<01HXDELIVERY0000000000001@example.com>",
		"Reply-To":              "<r-01HXDELIVERY0000000000001@reply.example.com>",
		"List-Unsubscribe":      "<https://portal.example.com/u/abc?x=1>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"To":                    "<Li.Lei@Customer.example>",
	} {
		if v := h.Get(field); v != want {
			t.Errorf("%s = %q, want %q", field, v, want)
		}
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	from, err := h.AddressList("From")
	if err != nil || from[0].Name != "Handover 通知" || from[0].Address != "notice@example.com" {
		t.Errorf("From = %v (%v)", from, err)
	}
	if s := m.Subject(); s != msg.Subject {
		t.Errorf("Subject = %q", s)
	}
	if raw := h.Get("Subject"); !strings.HasPrefix(raw, "=?UTF-8?") {
		t.Errorf("raw Subject not RFC 2047 UTF-8: %q", raw)
	}
	parts := mimeParts(t, m.Data)
	if strings.ReplaceAll(parts["text/plain"], "\r\n", "\n") != msg.Text || parts["text/html"] != msg.HTML {
		t.Errorf("parts = %q", parts)
	}
}

// mimeParts decodes a multipart/alternative message into type → body.
func mimeParts(t *testing.T, data []byte) map[string]string {
	t.Helper()
	e, err := message.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := e.Header.ContentType(); mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q", mt)
	}
	out := map[string]string{}
	mr := e.MultipartReader()
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		mt, params, _ := p.Header.ContentType()
		if !strings.EqualFold(params["charset"], "utf-8") {
			t.Errorf("%s charset = %q", mt, params["charset"])
		}
		b, _ := io.ReadAll(p.Body)
		out[mt] = string(b)
	}
}

func TestSendExplicitReplyToWithoutReplyDomain(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), func(c *email.Config) { c.ReplyDomain = "" })
	msg := notice("D1", "a@customer.example")
	msg.ReplyTo = "r-D1@replies.example.net"
	if res := ch.Send(context.Background(), []channels.Message{msg}); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	m := sink.Messages()[0]
	if m.From != "notice@example.com" {
		t.Errorf("envelope from = %q", m.From)
	}
	h := m.Header()
	if h.Get("Reply-To") != "<r-D1@replies.example.net>" || h.Get("List-Unsubscribe") != "" {
		t.Errorf("Reply-To = %q, List-Unsubscribe = %q", h.Get("Reply-To"), h.Get("List-Unsubscribe"))
	}
}

func TestSendBatchReusesConnections(t *testing.T) {
	sink := smtptest.New(t)
	sink.RequireAuth("relay", "s3cret")
	ch := newChannel(t, sink.URL(), func(c *email.Config) { c.PoolSize = 4 })
	for round := range 2 {
		msgs := make([]channels.Message, 200)
		for i := range msgs {
			msgs[i] = notice("D"+string(rune('A'+round))+strconv.Itoa(i), "c"+strconv.Itoa(i)+"@customer.example")
		}
		for i, r := range ch.Send(context.Background(), msgs) {
			if r.Err != nil || r.DeliveryID != msgs[i].DeliveryID || r.ProviderID != msgs[i].DeliveryID+"@example.com" {
				t.Fatalf("result %d = %+v", i, r)
			}
		}
	}
	if sink.Count() != 400 {
		t.Errorf("sink got %d messages, want 400", sink.Count())
	}
	if n := sink.Connections(); n > 4 {
		t.Errorf("%d connections for 400 messages, want at most the pool size 4", n)
	}
	seen := map[string]bool{}
	for _, m := range sink.Messages() {
		id := m.Header().Get("Message-Id")
		if seen[id] {
			t.Errorf("duplicate %s", id)
		}
		seen[id] = true
	}
}

func TestSendAuthFailureIsPermanent(t *testing.T) {
	sink := smtptest.New(t)
	sink.RequireAuth("relay", "right")
	url := strings.Replace(sink.URL(), "right", "wrong", 1)
	ch := newChannel(t, url, nil)
	res := ch.Send(context.Background(), []channels.Message{notice("D1", "a@customer.example"), notice("D2", "b@customer.example")})
	for _, r := range res {
		if channels.Classify(r.Err) != channels.Permanent {
			t.Errorf("%s: %v, want permanent", r.DeliveryID, r.Err)
		}
	}
}

func TestSendToDeadServerIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ch := newChannel(t, "smtp+insecure://"+addr, func(c *email.Config) { c.Timeout = time.Second })
	msgs := []channels.Message{notice("D1", "a@customer.example"), notice("D2", "b@customer.example"), notice("D3", "c@customer.example")}
	for _, r := range ch.Send(context.Background(), msgs) {
		if channels.Classify(r.Err) != channels.Transient || r.ProviderID != "" {
			t.Errorf("%s: %+v, want transient", r.DeliveryID, r)
		}
	}
}

func TestSendReconnectsAfterServerDropsConnection(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), func(c *email.Config) { c.PoolSize = 1 })
	if r := ch.Send(context.Background(), []channels.Message{notice("D1", "a@customer.example")}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	sink.DropConnections()
	msgs := []channels.Message{notice("D2", "b@customer.example"), notice("D3", "c@customer.example"), notice("D4", "d@customer.example")}
	for _, r := range ch.Send(context.Background(), msgs) {
		if r.Err != nil {
			t.Errorf("%s: %v", r.DeliveryID, r.Err)
		}
	}
	if sink.Count() != 4 || sink.Connections() != 2 {
		t.Errorf("count %d over %d connections, want 4 over 2", sink.Count(), sink.Connections())
	}
}

func TestSendCanceled(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range ch.Send(ctx, []channels.Message{notice("D1", "a@customer.example"), notice("D2", "b@customer.example")}) {
		if channels.Classify(r.Err) != channels.Transient {
			t.Errorf("%s: %v, want transient", r.DeliveryID, r.Err)
		}
	}
	if sink.Count() != 0 {
		t.Errorf("sink got %d", sink.Count())
	}
}
