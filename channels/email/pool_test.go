package email

import (
	"context"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email/smtptest"
)

func TestSendWithoutPipelining(t *testing.T) {
	sink := smtptest.New(t)
	ch, err := New(Config{SMTPURL: sink.URL(), From: "notice@example.com", PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	cn, err := ch.acquire(context.Background())
	if err != nil || !cn.pipelining {
		t.Fatalf("acquire: %v (pipelining %v)", err, cn != nil && cn.pipelining)
	}
	cn.pipelining = false // as with a server that does not offer it
	ch.release(cn, false)

	sink.Reject("bad@customer.example", 550, "5.1.1 User unknown")
	msgs := []channels.Message{
		{DeliveryID: "D1", To: channels.Address{Email: "bad@customer.example"}, Text: "x"},
		{DeliveryID: "D2", To: channels.Address{Email: "good@customer.example"}, Text: "y"},
	}
	res := ch.Send(context.Background(), msgs)
	if channels.Classify(res[0].Err) != channels.RecipientInvalid || res[1].Err != nil {
		t.Errorf("results = %+v", res)
	}
	if sink.Count() != 1 || sink.Connections() != 1 {
		t.Errorf("count %d, connections %d", sink.Count(), sink.Connections())
	}
}
