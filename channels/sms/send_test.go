package sms_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
)

func newChannel(t testing.TB, cfg sms.Config) *sms.Channel {
	t.Helper()
	ch, err := sms.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// notice is a templated message to the i-th test number.
func notice(i int, code string) channels.Message {
	return channels.Message{
		DeliveryID: fmt.Sprintf("dlv-%04d", i),
		To:         channels.Address{Phone: fmt.Sprintf("+86139%08d", i)},
		Kind:       channels.Notice,
		Template: &channels.Template{
			TemplateCode: code,
			Params:       map[string]string{"name": fmt.Sprintf("客户%d", i), "link": "https://h.example/p/x"},
		},
	}
}

func notices(n int, code string) []channels.Message {
	msgs := make([]channels.Message, n)
	for i := range msgs {
		msgs[i] = notice(i, code)
	}
	return msgs
}

func TestSendSingle(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	m := notice(7, "SMS_100")
	m.Template.SignName = "交接通知"

	res := ch.Send(context.Background(), []channels.Message{m})

	if len(res) != 1 || res[0].Err != nil || res[0].ProviderID == "" || res[0].DeliveryID != "dlv-0007" {
		t.Fatalf("result = %+v", res)
	}
	got := fake.Messages()
	if len(got) != 1 {
		t.Fatalf("fake got %d messages", len(got))
	}
	g := got[0]
	want := smsfake.Message{Action: "SendSms", Phone: "13900000007", SignName: "交接通知", TemplateCode: "SMS_100", OutID: "dlv-0007", BizID: res[0].ProviderID}
	if g.Action != want.Action || g.Phone != want.Phone || g.SignName != want.SignName || g.TemplateCode != want.TemplateCode || g.OutID != want.OutID || g.BizID != want.BizID {
		t.Errorf("fake got %+v, want %+v", g, want)
	}
	if g.Params["name"] != "客户7" || g.Params["link"] != "https://h.example/p/x" {
		t.Errorf("params = %v", g.Params)
	}
}

func TestSendDefaultSignNameAndInternationalNumber(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	m := notice(1, "SMS_100")
	m.To.Phone = "+85261234567"
	m.Template.Params = nil

	res := ch.Send(context.Background(), []channels.Message{m})

	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	g := fake.Messages()[0]
	if g.Phone != "85261234567" || g.SignName != smsfake.SignName {
		t.Errorf("phone %q sign %q", g.Phone, g.SignName)
	}
}

func TestSendBatchOf250MakesThreeCalls(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	msgs := notices(250, "SMS_200")

	res := ch.Send(context.Background(), msgs)

	calls := fake.Calls()
	if len(calls) != 3 {
		t.Fatalf("calls = %+v", calls)
	}
	for i, want := range []int{100, 100, 50} {
		if calls[i].Action != "SendBatchSms" || calls[i].Phones != want || calls[i].Code != "OK" {
			t.Errorf("call %d = %+v, want SendBatchSms of %d", i, calls[i], want)
		}
	}
	got := fake.Messages()
	if len(got) != 250 {
		t.Fatalf("fake got %d messages", len(got))
	}
	for i, r := range res {
		if r.Err != nil || r.DeliveryID != msgs[i].DeliveryID {
			t.Fatalf("result %d = %+v", i, r)
		}
		// Batch messages share the call's BizId and carry no OutId.
		if r.ProviderID != got[i].BizID || got[i].OutID != "" {
			t.Errorf("result %d provider id %q, fake %+v", i, r.ProviderID, got[i])
		}
		if got[i].Phone != fmt.Sprintf("139%08d", i) || got[i].Params["name"] != fmt.Sprintf("客户%d", i) || got[i].SignName != smsfake.SignName {
			t.Errorf("message %d = %+v", i, got[i])
		}
	}
	if res[0].ProviderID == res[100].ProviderID || res[100].ProviderID == res[200].ProviderID {
		t.Error("chunks share a BizId")
	}
}

func TestSendGroupsByTemplateCode(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	msgs := []channels.Message{notice(0, "SMS_A"), notice(1, "SMS_B"), notice(2, "SMS_A"), notice(3, "SMS_A")}

	res := ch.Send(context.Background(), msgs)

	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("result %d: %v", i, r.Err)
		}
	}
	calls := fake.Calls()
	if len(calls) != 2 || calls[0].Action != "SendBatchSms" || calls[0].Phones != 3 || calls[1].Action != "SendSms" {
		t.Fatalf("calls = %+v", calls)
	}
	if res[0].ProviderID != res[2].ProviderID || res[0].ProviderID == res[1].ProviderID {
		t.Errorf("provider ids %+v", res)
	}
}

func TestSendRejectsBeforeCalling(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	noTemplate := notice(0, "")
	nilTemplate := notice(1, "")
	nilTemplate.Template = nil
	badPhone := notice(2, "SMS_1")
	badPhone.To.Phone = "not a number"
	noPhone := notice(3, "SMS_1")
	noPhone.To = channels.Address{Email: "a@example.com"}

	res := ch.Send(context.Background(), []channels.Message{noTemplate, nilTemplate, badPhone, noPhone})

	for i, want := range []channels.Class{channels.Permanent, channels.Permanent, channels.RecipientInvalid, channels.RecipientInvalid} {
		if got := channels.Classify(res[i].Err); got != want {
			t.Errorf("result %d: class %q, want %q (%v)", i, got, want, res[i].Err)
		}
	}
	if !strings.Contains(res[0].Err.Error(), "SMS needs an approved template code") {
		t.Errorf("error = %v", res[0].Err)
	}
	if n := len(fake.Calls()); n != 0 {
		t.Errorf("%d calls made", n)
	}
}

func TestBatchRetriesSinglyOnOneBadNumber(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	msgs := notices(5, "SMS_1")
	fake.FailPhone("13900000003", smsfake.Fault{Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发号码天级流控"})

	res := ch.Send(context.Background(), msgs)

	for i, r := range res {
		if i == 3 {
			if channels.Classify(r.Err) != channels.RateLimited {
				t.Errorf("result 3 = %v", r.Err)
			}
			continue
		}
		if r.Err != nil || r.ProviderID == "" {
			t.Errorf("result %d = %+v", i, r)
		}
	}
	if got := len(fake.Messages()); got != 4 {
		t.Errorf("fake accepted %d messages, want 4", got)
	}
	for _, m := range fake.Messages() {
		if m.Action != "SendSms" || m.OutID == "" {
			t.Errorf("single retry %+v", m)
		}
	}
}

func TestClassification(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	tests := []struct {
		fault smsfake.Fault
		class channels.Class
		wait  time.Duration // exact RetryAfter, or -1 for "some wait"
	}{
		{smsfake.Fault{Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发分钟级流控Permission denied"}, channels.RateLimited, time.Minute},
		{smsfake.Fault{Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发小时级流控Permission denied"}, channels.RateLimited, time.Hour},
		{smsfake.Fault{Code: "isv.BUSINESS_LIMIT_CONTROL", Message: "触发天级流控Permission denied"}, channels.RateLimited, -1},
		{smsfake.Fault{Code: "Throttling.User", Message: "Request was denied due to user flow control."}, channels.RateLimited, time.Second},
		{smsfake.Fault{Status: 400, Code: "Throttling.Api", Message: "Request was denied due to api flow control."}, channels.RateLimited, time.Second},
		{smsfake.Fault{Code: "isv.MOBILE_NUMBER_ILLEGAL", Message: "非法手机号"}, channels.RecipientInvalid, 0},
		{smsfake.Fault{Code: "isv.MOBILE_COUNT_OVER_LIMIT"}, channels.RecipientInvalid, 0},
		{smsfake.Fault{Code: "isv.SMS_TEMPLATE_ILLEGAL"}, channels.Permanent, 0},
		{smsfake.Fault{Code: "isv.SMS_SIGNATURE_ILLEGAL"}, channels.Permanent, 0},
		{smsfake.Fault{Code: "isv.TEMPLATE_MISSING_PARAMETERS"}, channels.Permanent, 0},
		{smsfake.Fault{Code: "isv.AMOUNT_NOT_ENOUGH"}, channels.Permanent, 0},
		{smsfake.Fault{Status: 404, Code: "InvalidAccessKeyId.NotFound"}, channels.Permanent, 0},
		{smsfake.Fault{Status: 400, Code: "SignatureDoesNotMatch"}, channels.Permanent, 0},
		{smsfake.Fault{Status: 403, Code: "Forbidden.RAM"}, channels.Permanent, 0},
		{smsfake.Fault{Code: "isp.SYSTEM_ERROR"}, channels.Transient, 0},
		{smsfake.Fault{Code: "isv.SOMETHING_NEW"}, channels.Transient, 0},
		{smsfake.Fault{Status: 500}, channels.Transient, 0},
		{smsfake.Fault{Status: 503, Code: "ServiceUnavailable"}, channels.Transient, 0},
		{smsfake.Fault{Status: 429}, channels.RateLimited, time.Second},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d_%s", tt.fault.Status, tt.fault.Code)
		t.Run(name, func(t *testing.T) {
			fake.FailNext(1, tt.fault)
			m := notice(42, "SMS_1")
			err := ch.Send(context.Background(), []channels.Message{m})[0].Err
			var se *channels.SendError
			if !errorsAs(err, &se) {
				t.Fatalf("err = %v, want *SendError", err)
			}
			if se.Class != tt.class {
				t.Errorf("class %q, want %q (%v)", se.Class, tt.class, se)
			}
			if tt.fault.Code != "" && se.Code != tt.fault.Code {
				t.Errorf("code %q, want %q", se.Code, tt.fault.Code)
			}
			switch {
			case tt.wait > 0 && se.RetryAfter != tt.wait:
				t.Errorf("RetryAfter %v, want %v", se.RetryAfter, tt.wait)
			case tt.wait < 0 && (se.RetryAfter <= 0 || se.RetryAfter > 24*time.Hour):
				t.Errorf("RetryAfter %v, want until midnight", se.RetryAfter)
			}
			if strings.Contains(se.Error(), "13900000042") {
				t.Errorf("error names the phone: %v", se)
			}
		})
	}
}

func TestTimeoutIsTransient(t *testing.T) {
	fake := smsfake.New(t)
	cfg := fake.Config()
	cfg.Timeout = 100 * time.Millisecond
	ch := newChannel(t, cfg)
	fake.FailNext(1, smsfake.Fault{Delay: time.Second})

	start := time.Now()
	err := ch.Send(context.Background(), []channels.Message{notice(1, "SMS_1")})[0].Err

	if channels.Classify(err) != channels.Transient || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err = %v", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("took %v", d)
	}
	if strings.Contains(err.Error(), "13900000001") || strings.Contains(err.Error(), "Signature") {
		t.Errorf("error leaks the request: %v", err)
	}
}

func TestCanceledContext(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	fake.FailNext(1, smsfake.Fault{Delay: time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	res := ch.Send(ctx, notices(3, "SMS_1"))

	for i, r := range res {
		if channels.Classify(r.Err) != channels.Transient {
			t.Errorf("result %d = %v", i, r.Err)
		}
	}
}

func TestWrongSecretIsPermanent(t *testing.T) {
	fake := smsfake.New(t)
	cfg := fake.Config()
	cfg.AccessKeySecret = "wrong"
	ch := newChannel(t, cfg)

	err := ch.Send(context.Background(), []channels.Message{notice(1, "SMS_1")})[0].Err

	var se *channels.SendError
	if !errorsAs(err, &se) || se.Class != channels.Permanent || se.Code != "SignatureDoesNotMatch" {
		t.Errorf("err = %v", err)
	}
}

func TestConcurrentSends(t *testing.T) {
	fake := smsfake.New(t)
	cfg := fake.Config()
	cfg.MaxConcurrent = 3
	ch := newChannel(t, cfg)
	var wg sync.WaitGroup
	for g := range 12 {
		wg.Go(func() {
			msgs := make([]channels.Message, 5)
			for i := range msgs {
				msgs[i] = notice(g*10+i, "SMS_1")
			}
			if g%2 == 0 {
				msgs = msgs[:1] // mix SendSms and SendBatchSms
			}
			for i, r := range ch.Send(context.Background(), msgs) {
				if r.Err != nil {
					t.Errorf("goroutine %d result %d: %v", g, i, r.Err)
				}
			}
		})
	}
	wg.Wait()
	if got := len(fake.Messages()); got != 6*1+6*5 {
		t.Errorf("fake accepted %d messages", got)
	}
}

func TestNewNamesMissingSettings(t *testing.T) {
	_, err := sms.New(sms.Config{})
	for _, name := range []string{"HANDOVER_ALIYUN_ACCESS_KEY_ID", "HANDOVER_ALIYUN_ACCESS_KEY_SECRET", "HANDOVER_SMS_SIGN_NAME"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v, want it to name %s", err, name)
		}
	}
	cfg := sms.Config{AccessKeyID: "id", AccessKeySecret: "s", SignName: "n", Scheme: "ftp"}
	if _, err := sms.New(cfg); err == nil {
		t.Error("scheme ftp accepted")
	}
	cfg = sms.Config{AccessKeyID: "id", AccessKeySecret: "s", SignName: "n", Endpoint: "https://x/"}
	if _, err := sms.New(cfg); err == nil {
		t.Error("endpoint URL accepted")
	}
	ch, err := sms.New(sms.Config{AccessKeyID: "id", AccessKeySecret: "s", SignName: "n"})
	if err != nil || ch.Name() != channels.SMS || ch.Capabilities().MaxBatch != 100 {
		t.Errorf("New = %v, %v", ch, err)
	}
}

func TestQueryDetails(t *testing.T) {
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	res := ch.Send(context.Background(), []channels.Message{notice(1, "SMS_1")})
	batch := ch.Send(context.Background(), notices(3, "SMS_2"))
	fake.Undeliverable("13900000002", "MK:0001")

	got, err := ch.QueryDetails(context.Background(), "+8613900000001", res[0].ProviderID, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want := channels.InboundEvent{Channel: channels.SMS, Kind: channels.EventReceipt,
		DedupKey: res[0].ProviderID + ":+8613900000001", From: channels.Address{Phone: "+8613900000001"},
		ProviderMessageID: res[0].ProviderID, DeliveryID: "dlv-0001", Status: channels.StatusDelivered}
	if len(got) != 1 || got[0].OccurredAt.IsZero() {
		t.Fatalf("events = %+v", got)
	}
	got[0].OccurredAt = time.Time{}
	if got[0] != want {
		t.Errorf("event = %+v\nwant    %+v", got[0], want)
	}

	got, err = ch.QueryDetails(context.Background(), "+8613900000002", batch[2].ProviderID, time.Now())
	if err != nil || len(got) != 1 || got[0].Status != channels.StatusFailed || got[0].ErrorCode != "MK:0001" || got[0].DeliveryID != "" {
		t.Errorf("batch receipt = %+v, %v", got, err)
	}
	if _, err := ch.QueryDetails(context.Background(), "+8613900000002", "", time.Now()); err == nil {
		t.Error("query without BizId accepted")
	}
	// A message waiting for its carrier gives no receipt yet.
	fake.Waiting("13900000003")
	if got, err := ch.QueryDetails(context.Background(), "+8613900000003", batch[2].ProviderID, time.Now()); err != nil || len(got) != 0 {
		t.Errorf("waiting message: %+v, %v; want no receipt", got, err)
	}
	// A provider outage is transient.
	fake.FailNext(1, smsfake.Fault{Status: http.StatusServiceUnavailable})
	if _, err := ch.QueryDetails(context.Background(), "+8613900000003", batch[2].ProviderID, time.Now()); channels.Classify(err) != channels.Transient {
		t.Errorf("query during an outage: %v; want a transient error", err)
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
