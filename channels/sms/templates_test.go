package sms_test

import (
	"context"
	"errors"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms/smsfake"
)

// TestApprovedTemplates lists the account's templates through the real
// SDK (QuerySmsTemplateList), across pages.
func TestApprovedTemplates(t *testing.T) {
	fake := smsfake.New(t)
	fake.AddTemplate(smsfake.Template{Code: "SMS_1", Name: "转让告知", Type: 1, Content: "尊敬的${name}：详情https://h.example.cn/l/${code}"})
	fake.AddTemplate(smsfake.Template{Code: "SMS_2", Name: "推广", Type: 2, Content: "新品${name} 拒收请回复R", Status: "AUDIT_STATE_INIT"})
	for i := range 60 {
		fake.AddTemplate(smsfake.Template{Code: "SMS_X" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Type: 1, Content: "x"})
	}
	list, err := newChannel(t, fake.Config()).ApprovedTemplates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 62 {
		t.Fatalf("%d templates; want 62 over two pages", len(list))
	}
	if a, b := list[0], list[1]; a.Code != "SMS_1" || a.Type != "notice" || !a.Approved || a.Text != "尊敬的${name}：详情https://h.example.cn/l/${code}" ||
		b.Type != "promotional" || b.Approved {
		t.Fatalf("templates = %+v, %+v", a, b)
	}
}

// TestSendChecksTheApprovedTemplate sends against filed templates: the
// fake fills the approved text as the phone shows it, and refuses an
// unknown code or a missing variable as Aliyun does, permanently.
func TestSendChecksTheApprovedTemplate(t *testing.T) {
	fake := smsfake.New(t)
	fake.AddTemplate(smsfake.Template{Code: "SMS_100", Type: 1, Content: "${name}您好：详情https://h.example/p/${link}"})
	ch := newChannel(t, fake.Config())
	msgs := notices(3, "SMS_100")
	msgs[0].Template.Params["link"] = "Tok0"
	msgs[1].Template.Params["link"] = "Tok1"
	delete(msgs[2].Template.Params, "link")
	res := ch.Send(context.Background(), msgs[:2])
	if res[0].Err != nil || res[1].Err != nil {
		t.Fatalf("results = %+v", res)
	}
	var se *channels.SendError
	if res := ch.Send(context.Background(), msgs[2:]); !errors.As(res[0].Err, &se) || se.Class != channels.Permanent {
		t.Fatalf("missing variable: %v; want a permanent error", res[0].Err)
	}
	got := map[string]string{}
	for _, m := range fake.Messages() {
		got[m.Phone] = m.Text
	}
	if got["13900000000"] != "【Handover】客户0您好：详情https://h.example/p/Tok0" || got["13900000001"] != "【Handover】客户1您好：详情https://h.example/p/Tok1" {
		t.Fatalf("texts = %v", got)
	}
	if res := ch.Send(context.Background(), notices(1, "SMS_999")); res[0].Err == nil {
		t.Fatal("unknown template code accepted")
	}
}
