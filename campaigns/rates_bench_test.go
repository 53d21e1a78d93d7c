package campaigns_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// BenchmarkRates sends a campaign at each configured shared rate (20/s,
// 200/s and 2,000/s; BENCH_RATES) on email (into an SMTP sink in a child
// process), SMS (the Aliyun SDK against smsfake) and WeChat (the WeChat SDK
// against wechatfake) (BENCH_RATE_CHANNELS), by one worker and by three
// (BENCH_RATE_WORKERS): each worker has its own Service, channel, Limiter
// and Asynq server at the queue's default concurrency and poll intervals,
// on one SQLite database and Redis. Each case sends BENCH_RATE_SECONDS
// (default 8) of messages at its rate and reports the rate configured and
// the rate achieved: the messages that reached the provider between the
// tenth and the nine-tenths of them, over the time that took. Below the
// rate means the workers could not keep up on this machine, not that the
// rate held them back.
func BenchmarkRates(b *testing.B) {
	seconds := envInts(b, "BENCH_RATE_SECONDS", "8")[0]
	rates := envInts(b, "BENCH_RATES", "20,200,2000")
	workers := envInts(b, "BENCH_RATE_WORKERS", "1,3")
	chans := strings.Split(envOr("BENCH_RATE_CHANNELS", "email,sms,wechat"), ",")
	most := 0
	for _, r := range rates {
		most = max(most, r*seconds)
	}
	db := dbtest.SQLite(b)
	e := newRateEnv(b, db, most)
	providerCodes(b, db)
	ids := e.customerIDs(b, most)
	for _, ch := range chans {
		for _, rate := range rates {
			for _, w := range workers {
				b.Run(fmt.Sprintf("%s/%d-per-s/%d-workers", ch, rate, w), func(b *testing.B) {
					for range b.N {
						benchRate(b, e, channels.Name(ch), rate, w, ids[:rate*seconds])
					}
				})
			}
		}
	}
}

// benchRate sends one campaign to ids on ch held to rate by workers.
func benchRate(b *testing.B, e *rateEnv, ch channels.Name, rate, workers int, ids []string) {
	b.StopTimer()
	p := newProvider(b, e, ch)
	f := startFleet(b, workers, e.config(0), ch, p.sender, rate, p.open)
	c := e.campaign(b, f.svc, ch, 0, ids)
	b.StartTimer()
	if err := f.svc.Start(context.Background(), c.ID, "staff:test"); err != nil {
		b.Fatal(err)
	}
	achieved := arrivals(b, p.count, len(ids), time.Duration(len(ids)/rate)*5*time.Second+time.Minute)
	b.StopTimer()
	b.ReportMetric(float64(rate), "configured-msgs/s")
	b.ReportMetric(achieved, "achieved-msgs/s")
	b.ReportMetric(100*achieved/float64(rate), "%-of-configured")
}

// provider is where a bench campaign's messages go: the channel a worker
// opens, the sender its rate is kept for, and how many messages arrived.
type provider struct {
	sender string
	open   func() channels.Channel
	count  func() int
}

func newProvider(tb testing.TB, e *rateEnv, ch channels.Name) provider {
	switch ch {
	case channels.Email:
		sink := smtptest.New(tb)
		sink.KeepMessages(false)
		return provider{sender: "smtp", open: mailer(tb, sink.URL()), count: sink.Count}
	case channels.SMS:
		fake := smsfake.New(tb)
		return provider{sender: fake.Config().SignName, count: fake.Count, open: func() channels.Channel {
			sc, err := sms.New(fake.Config())
			if err != nil {
				tb.Fatal(err)
			}
			return sc
		}}
	case channels.WeChat:
		fake := wechatfake.New(tb)
		return provider{sender: fake.AppID, count: fake.Count, open: func() channels.Channel {
			wc, err := wechat.New(wechat.Config{AppID: fake.AppID, AppSecret: fake.AppSecret, Token: fake.Token,
				EncodingAESKey: fake.EncodingAESKey, APIBase: fake.URL(), HTTPTimeout: 10 * time.Second}, e.q.Redis, "handover:wechat:")
			if err != nil {
				tb.Fatal(err)
			}
			return wc
		}}
	}
	tb.Fatalf("no provider for channel %s", ch)
	return provider{}
}

// arrivals polls a provider's count every few milliseconds until want
// messages arrived, and returns the rate they arrived at between the
// polls that saw a tenth and nine tenths of them (the count and the time
// are read together, so a late poll does not skew it).
func arrivals(b *testing.B, count func() int, want int, timeout time.Duration) float64 {
	deadline := time.Now().Add(timeout)
	var n1, n2 int
	var t1, t2 time.Time
	for {
		n, now := count(), time.Now()
		if t1.IsZero() && n*10 >= want {
			n1, t1 = n, now
		}
		if t2.IsZero() && n*10 >= want*9 {
			n2, t2 = n, now
		}
		if n >= want {
			break
		}
		if now.After(deadline) {
			b.Fatalf("%d of %d messages after %v", n, want, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return float64(n2-n1) / t2.Sub(t1).Seconds()
}

// providerCodes gives the default SMS and WeChat templates the approved
// template code and id the fakes take.
func providerCodes(tb testing.TB, db *database.DB) {
	tb.Helper()
	for _, q := range []string{
		`UPDATE template_versions SET template_code = 'SMS_900001' WHERE template_id IN (SELECT id FROM templates WHERE channel = 'sms')`,
		`UPDATE template_versions SET wechat_template_id = 'TPL_BENCH' WHERE template_id IN (SELECT id FROM templates WHERE channel = 'wechat')`,
	} {
		if _, err := db.ExecContext(context.Background(), q); err != nil {
			tb.Fatal(err)
		}
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInts reads a comma-separated list of positive numbers.
func envInts(b *testing.B, name, def string) []int {
	var out []int
	for _, f := range strings.Split(envOr(name, def), ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("%s=%q is not a list of positive numbers", name, os.Getenv(name))
		}
		out = append(out, n)
	}
	return out
}
