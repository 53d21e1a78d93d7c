package sms_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/handoverhq/handover/channels/sms/smsfake"
)

// BenchmarkSend measures the cost per message of SendBatchSms (100 per
// call) and SendSms (1 per call) against the fake on loopback. Allocation
// counts include the in-process fake server's own.
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name  string
		batch int
	}{{"batch100", 100}, {"single", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			fake := smsfake.New(b)
			ch := newChannel(b, fake.Config())
			msgs := notices(bc.batch, "SMS_BENCH")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				for _, r := range ch.Send(context.Background(), msgs) {
					if r.Err != nil {
						b.Fatal(r.Err)
					}
				}
				if len(fake.Calls()) > 1000 {
					fake.Reset() // keep the fake's record from growing
				}
			}
			runtime.ReadMemStats(&after)
			n := float64(b.N * bc.batch)
			b.ReportMetric(float64(b.Elapsed().Microseconds())/n, "µs/msg")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/msg")
			b.ReportMetric(0, "ns/op")
		})
	}
}
