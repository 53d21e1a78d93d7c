package email_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
)

func TestSendClassifiesRecipientReplies(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), func(c *email.Config) { c.PoolSize = 1 })
	tests := []struct {
		to    string
		code  int
		text  string
		class channels.Class
		ecode string
	}{
		{"unknown@customer.example", 550, "5.1.1 User unknown", channels.RecipientInvalid, "550 5.1.1"},
		{"syntax@customer.example", 553, "Mailbox name not allowed", channels.RecipientInvalid, "553 5.0.0"},
		{"policy@customer.example", 550, "5.7.1 Relaying denied", channels.Permanent, "550 5.7.1"},
		{"full@customer.example", 452, "4.2.2 Mailbox full", channels.Transient, "452 4.2.2"},
		{"busy@customer.example", 451, "4.7.1 Too many messages, slow down", channels.RateLimited, "451 4.7.1"},
		{"greylist@customer.example", 450, "4.7.1 Greylisted, generate a retry", channels.Transient, "450 4.7.1"},
	}
	var msgs []channels.Message
	for i, tt := range tests {
		sink.Reject(tt.to, tt.code, tt.text)
		msgs = append(msgs, notice("R"+strconv.Itoa(i), tt.to))
	}
	msgs = append(msgs, notice("OK", "fine@customer.example")) // same connection, after the failures
	res := ch.Send(context.Background(), msgs)
	for i, tt := range tests {
		se := sendError(t, res[i].Err)
		if se.Class != tt.class || se.Code != tt.ecode {
			t.Errorf("%d %s → %s %q, want %s %q", tt.code, tt.text, se.Class, se.Code, tt.class, tt.ecode)
		}
		if strings.Contains(se.Error(), "@") || strings.Contains(se.Error(), "customer") {
			t.Errorf("error names the recipient: %q", se.Error())
		}
		if tt.class == channels.RateLimited && se.RetryAfter <= 0 {
			t.Errorf("rate limited without RetryAfter")
		}
	}
	if last := res[len(res)-1]; last.Err != nil || sink.Count() != 1 {
		t.Errorf("message after failures: %+v, sink count %d", last, sink.Count())
	}
	if sink.Connections() != 1 {
		t.Errorf("%d connections, want the one reused", sink.Connections())
	}
}

func TestSendClassifiesDataReplies(t *testing.T) {
	tests := []struct {
		code  int
		text  string
		class channels.Class
	}{
		{554, "5.7.1 Message rejected as spam", channels.Permanent},
		{550, "5.1.1 Mailbox unavailable", channels.RecipientInvalid},
		{451, "4.3.0 Local error in processing", channels.Transient},
		{421, "4.7.0 Rate limit exceeded, try later", channels.RateLimited},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			sink := smtptest.New(t)
			ch := newChannel(t, sink.URL(), func(c *email.Config) { c.Timeout = 2 * time.Second })
			sink.FailNext(1, tt.code, tt.text)
			res := ch.Send(context.Background(), []channels.Message{notice("D1", "a@customer.example")})
			if se := sendError(t, res[0].Err); se.Class != tt.class {
				t.Errorf("%d → %s (%v), want %s", tt.code, se.Class, se, tt.class)
			}
			res = ch.Send(context.Background(), []channels.Message{notice("D2", "a@customer.example")})
			if res[0].Err != nil || sink.Count() != 1 {
				t.Errorf("next send: %v, count %d", res[0].Err, sink.Count())
			}
		})
	}
}

func TestSendRejectsUnusableMessages(t *testing.T) {
	sink := smtptest.New(t)
	ch := newChannel(t, sink.URL(), nil)
	noAddr := notice("D1", "")
	badAddr := notice("D2", "not an address")
	noID := notice("", "a@customer.example")
	badUnsub := notice("D3", "a@customer.example")
	badUnsub.UnsubscribeURL = "javascript:alert(1)"
	injected := notice("D4", "a@customer.example\r\nBcc: x@evil.example")
	res := ch.Send(context.Background(), []channels.Message{noAddr, badAddr, noID, badUnsub, injected})
	want := []channels.Class{channels.RecipientInvalid, channels.RecipientInvalid, channels.Permanent, channels.Permanent, channels.RecipientInvalid}
	for i, r := range res {
		if c := channels.Classify(r.Err); c != want[i] {
			t.Errorf("message %d: %v, want %s", i, r.Err, want[i])
		}
	}
	if sink.Count() != 0 {
		t.Errorf("sink got %d messages", sink.Count())
	}
}

func sendError(t *testing.T, err error) *channels.SendError {
	t.Helper()
	se, ok := err.(*channels.SendError)
	if !ok {
		t.Fatalf("error %v (%T) is not a *channels.SendError", err, err)
	}
	return se
}
