package email_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
)

// BenchmarkSend sends b.N messages (text and HTML parts, batches of 500)
// into an in-process sink over loopback and reports messages per second.
func BenchmarkSend(b *testing.B) {
	for _, pool := range []int{1, 2, 4, 8} {
		b.Run("pool="+strconv.Itoa(pool), func(b *testing.B) {
			sink := smtptest.New(b)
			sink.KeepMessages(false)
			ch := newChannel(b, sink.URL(), func(c *email.Config) { c.PoolSize = pool })
			batch := make([]channels.Message, 500)
			for i := range batch {
				batch[i] = notice("01HXBENCH"+strconv.Itoa(i), "customer"+strconv.Itoa(i)+"@customer.example")
				batch[i].HTML = "<p>Hello, your account moved. <a href=\"https://portal.example.com/l/abc\">Confirm</a></p>"
				batch[i].UnsubscribeURL = "https://portal.example.com/u/abc"
			}
			b.ResetTimer()
			for sent := 0; sent < b.N; sent += len(batch) {
				n := min(len(batch), b.N-sent)
				for _, r := range ch.Send(context.Background(), batch[:n]) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			if sink.Count() < b.N {
				b.Fatalf("sink got %d of %d", sink.Count(), b.N)
			}
		})
	}
}
