package email

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
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
	cn.pipelining, cn.chunking = false, false // as with a server that offers neither
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

// TestChunkedLikeData sends one message with BDAT (the sink offers
// CHUNKING) and one the classic way, DATA with dot-stuffing: the sink
// receives the same bytes, CRLF lines only, and refusals read the same.
func TestChunkedLikeData(t *testing.T) {
	sink := smtptest.New(t)
	ch, err := New(Config{SMTPURL: sink.URL(), From: "notice@example.com", PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	msg := channels.Message{DeliveryID: "D1", To: channels.Address{Email: "li@customer.example"}, Subject: "转让通知",
		Text: "Dear Mr Li,\n.a line starting with a dot\n\nHuadong Hardware has a new owner.", HTML: "<p>您好</p>\n.<p>点</p>"}
	bad := channels.Message{DeliveryID: "D2", To: channels.Address{Email: "bad@customer.example"}, Text: "x"}
	sink.Reject("bad@customer.example", 550, "5.1.1 User unknown")
	send := func(chunking bool) []byte {
		t.Helper()
		cn, err := ch.acquire(context.Background())
		if err != nil || !cn.chunking {
			t.Fatalf("acquire: %v (chunking %v)", err, cn != nil && cn.chunking)
		}
		cn.chunking = chunking
		ch.release(cn, false)
		res := ch.Send(context.Background(), []channels.Message{bad, msg})
		if channels.Classify(res[0].Err) != channels.RecipientInvalid || res[1].Err != nil {
			t.Fatalf("chunking %v: results %+v", chunking, res)
		}
		got := sink.Messages()
		data := got[len(got)-1].Data
		if bytes.Contains(bytes.ReplaceAll(data, []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("chunking %v: a bare LF in\n%s", chunking, data)
		}
		data = regexp.MustCompile(`(?m)^Date: .*\r\n`).ReplaceAll(data, nil)
		if b := regexp.MustCompile(`boundary="?([^"\s;]+)`).FindSubmatch(data); b != nil {
			data = bytes.ReplaceAll(data, b[1], []byte("BOUNDARY"))
		}
		return data
	}
	chunked, classic := send(true), send(false)
	if !bytes.Equal(chunked, classic) {
		t.Errorf("BDAT sent\n%s\nDATA sent\n%s", chunked, classic)
	}
	if sink.Count() != 2 || sink.Connections() != 1 {
		t.Errorf("count %d, connections %d", sink.Count(), sink.Connections())
	}
}

// TestSendWindowMixedOutcomes sends more than a window on one connection
// with refusals inside the windows: each message gets its own outcome and
// the session stays in step (RSET before every transaction).
func TestSendWindowMixedOutcomes(t *testing.T) {
	sink := smtptest.New(t)
	ch, err := New(Config{SMTPURL: sink.URL(), From: "notice@example.com", PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	msgs := make([]channels.Message, window+7)
	for i := range msgs {
		msgs[i] = channels.Message{DeliveryID: "D" + strconv.Itoa(i), To: channels.Address{Email: "c" + strconv.Itoa(i) + "@customer.example"}, Text: "x"}
	}
	sink.Reject("c3@customer.example", 550, "5.1.1 User unknown")
	sink.Reject("c"+strconv.Itoa(window+1)+"@customer.example", 550, "5.1.1 User unknown")
	sink.FailNext(1, 451, "4.3.0 Try again later")
	res := ch.Send(context.Background(), msgs)
	for i, r := range res {
		switch i {
		case 0:
			if channels.Classify(r.Err) != channels.Transient {
				t.Errorf("message 0: %v, want a transient failure", r.Err)
			}
		case 3, window + 1:
			if channels.Classify(r.Err) != channels.RecipientInvalid {
				t.Errorf("message %d: %v, want a refused recipient", i, r.Err)
			}
		default:
			if r.Err != nil || r.ProviderID != "D"+strconv.Itoa(i)+"@example.com" {
				t.Errorf("message %d: %+v", i, r)
			}
		}
	}
	if sink.Count() != len(msgs)-3 || sink.Connections() != 1 {
		t.Errorf("count %d, connections %d", sink.Count(), sink.Connections())
	}
}
