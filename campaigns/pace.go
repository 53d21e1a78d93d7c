package campaigns

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/handoverhq/handover/channels"
)

// recordMargin is the most of a batch's time kept back from pacing for
// recording what it sent (a fifth of it when that is less).
const recordMargin = 30 * time.Second

// paceContext bounds how long the batch's sends wait for their slots under
// the campaign's and the channels' rates (channels.PaceUntil): until the
// task's deadline or the batch's lease ends, whichever comes first, less
// the time to record. The bound is drawn from the later half of that span,
// so batches paced side by side at a slow rate do not all give up at once
// and leave the rate idle while they wait in the queue.
func (s *Service) paceContext(ctx context.Context) context.Context {
	now := time.Now()
	end := now.Add(s.cfg.Lease)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	span := end.Sub(now)
	span -= min(recordMargin, span/5)
	if span <= 0 {
		return channels.PaceUntil(ctx, now)
	}
	return channels.PaceUntil(ctx, now.Add(span/2+rand.N(span/2+1)))
}

// sendPaced sends the rendered messages idxs on channel ch, in parts of at
// most the channel's batch, each held to the campaign's own rate for ch
// (the channel's shared rate is kept inside channel.Send). Rows the rates
// would hold past the batch's pace bound stay rate limited, for the queue.
func (s *Service) sendPaced(ctx context.Context, c *Campaign, ch channels.Name, channel channels.Channel, idxs []int,
	msgs []channels.Message, rows []claimed, out []outcome) {
	size := max(1, channel.Capabilities().MaxBatch)
	for start := 0; start < len(idxs); {
		part := idxs[start:min(start+size, len(idxs))]
		n, wait, err := s.campaignRate(ctx, c, ch, len(part))
		if err != nil {
			n, wait = 0, time.Second // without Redis the campaign's rate cannot be kept: hold
		}
		if n == 0 {
			for _, i := range idxs[start:] {
				out[i] = outcome{rateLimited: true, retryAfter: wait, errMsg: "campaign send rate reached"}
			}
			return
		}
		part = part[:n]
		start += n
		batch := make([]channels.Message, len(part))
		for j, i := range part {
			batch[j] = msgs[i]
		}
		results := channel.Send(ctx, batch)
		for j, i := range part {
			if j >= len(results) {
				out[i] = outcome{retry: true, errMsg: "channel returned no result"}
				continue
			}
			out[i] = classify(results[j], out[i].linkHash, rows[i].attempts+1)
		}
	}
}

// campaignRate waits until n messages, about to go out on ch, fit the
// campaign's own rate for ch and returns how many may go now; 0 with the
// wait when the rate would hold them past the batch's pace bound.
func (s *Service) campaignRate(ctx context.Context, c *Campaign, ch channels.Name, n int) (int, time.Duration, error) {
	rate := c.Rates[ch]
	if rate <= 0 || s.limiter == nil {
		return n, 0, nil
	}
	return s.limiter.Wait(ctx, "campaign:"+c.ID+":"+string(ch), rate, n, channels.PaceBudget(ctx, time.Now()))
}

// rateInForce is the rate c's messages on ch are held to, in messages per
// second: the lower of the campaign's own and the channel's shared rate;
// 0 is no limit.
func (s *Service) rateInForce(c *Campaign, ch channels.Name) int {
	own, shared := c.Rates[ch], channels.RateOf(s.cfg.Channels[ch])
	switch {
	case own <= 0:
		return shared
	case shared <= 0:
		return own
	}
	return min(own, shared)
}
