package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms/smsfake"
)

// TestWasSentAfterLostAnswer loses the answers to a lone SendSms and to a
// SendBatchSms: each send comes back failed, and WasSent finds the
// messages (the lone one by OutId, the batch's by template code and time)
// but not a message never sent, nor one outside the window.
func TestWasSentAfterLostAnswer(t *testing.T) {
	ctx := context.Background()
	fake := smsfake.New(t)
	ch := newChannel(t, fake.Config())
	before := time.Now().Add(-time.Second)
	lone := notice(1, "SMS_1")
	fake.LoseAnswer("13900000001")
	if res := ch.Send(ctx, []channels.Message{lone}); res[0].Err == nil {
		t.Fatal("a lost answer came back as sent")
	}
	batch := notices(3, "SMS_2")[1:] // numbers 1 and 2
	fake.LoseAnswer("13900000002")
	if res := ch.Send(ctx, batch); res[0].Err == nil || res[1].Err == nil {
		t.Fatalf("a lost batch answer came back as sent: %+v", res)
	}
	after := time.Now().Add(time.Second)
	never := notice(7, "SMS_1")
	for _, c := range []struct {
		name string
		msg  channels.Message
		from time.Time
		want bool
	}{
		{"lone SendSms, by OutId", lone, before, true},
		{"batch, by template and time", batch[1], before, true},
		{"never sent", never, before, false},
		{"batch, sent before the window", batch[1], after, false},
	} {
		got, err := ch.WasSent(ctx, c.msg, c.from, after.Add(time.Minute))
		if err != nil || got != c.want {
			t.Errorf("%s: WasSent %v, %v; want %v", c.name, got, err, c.want)
		}
	}
	// The lone message was sent under another delivery id: not this one.
	other := lone
	other.DeliveryID = "dlv-other"
	if got, err := ch.WasSent(ctx, other, before, after); err != nil || got {
		t.Errorf("another delivery to the same phone: WasSent %v, %v; want false", got, err)
	}
}
