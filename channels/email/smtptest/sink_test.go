package smtptest_test

import (
	"errors"
	"net/smtp"
	"net/textproto"
	"testing"

	"github.com/handoverhq/handover/channels/email/smtptest"
)

func TestSink(t *testing.T) {
	sink := smtptest.New(t)
	msg := []byte("Subject: =?UTF-8?B?5L2g5aW9?=\r\nMessage-ID: <1@x>\r\n\r\nbody\r\n")
	if err := smtp.SendMail(sink.Addr(), nil, "a@x.example", []string{"b@y.example"}, msg); err != nil {
		t.Fatal(err)
	}
	got := sink.Messages()
	if len(got) != 1 || got[0].From != "a@x.example" || got[0].To[0] != "b@y.example" ||
		got[0].Subject() != "你好" || got[0].Header().Get("Message-Id") != "<1@x>" {
		t.Fatalf("messages = %+v", got)
	}

	sink.Reject("B@y.example", 550, "5.1.1 User unknown")
	err := smtp.SendMail(sink.Addr(), nil, "a@x.example", []string{"b@y.example"}, msg)
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 || te.Msg != "5.1.1 User unknown" {
		t.Errorf("rejected rcpt: %v", err)
	}

	sink.Reset()
	sink.FailNext(1, 451, "4.3.0 Try later")
	if err := smtp.SendMail(sink.Addr(), nil, "a@x.example", []string{"b@y.example"}, msg); !errors.As(err, &te) || te.Code != 451 {
		t.Errorf("failed data: %v", err)
	}
	sink.KeepMessages(false)
	if err := smtp.SendMail(sink.Addr(), nil, "a@x.example", []string{"b@y.example"}, msg); err != nil {
		t.Fatal(err)
	}
	if sink.Count() != 1 || len(sink.Messages()) != 0 || sink.Connections() != 2 {
		t.Errorf("count %d, kept %d, connections %d", sink.Count(), len(sink.Messages()), sink.Connections())
	}
	if sink.URL() != "smtp+insecure://"+sink.Addr() {
		t.Errorf("URL = %q", sink.URL())
	}
}
