package campaigns

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// recordMargin is the most of a batch's time kept back from pacing for
// recording what it sent (a fifth of it when that is less).
const recordMargin = 30 * time.Second

// paceContext bounds how long the batch's sends wait for their slots under
// the campaign's and the channels' rates (channels.PaceUntil): until the
// task's deadline, less the time to record what was sent (the heartbeat
// keeps the batch's lease meanwhile). The bound is drawn from the later
// half of that span, so batches paced side by side at a slow rate do not
// all give up at once and leave the rate idle while they wait in the
// queue. Without a deadline sends are not bounded.
func (s *Service) paceContext(ctx context.Context) context.Context {
	deadline, ok := ctx.Deadline()
	if !ok {
		return ctx
	}
	now := time.Now()
	span := deadline.Sub(now)
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

// Pace is the rate a campaign's messages are held to and how long its
// queued rows should still take.
type Pace struct {
	// Rates is, per channel of the campaign, the rate in force in
	// messages per second: the lower of the campaign's own and the
	// channel's shared rate (HANDOVER_*_RATE); 0 is no limit.
	Rates map[channels.Name]int
	// ETA is how long the queued rows should take at those rates (and
	// after the quiet hours the campaign is in, if any): the channels send
	// side by side, each its share of the rows, estimated from the next
	// etaSample queued rows. Nil unless the campaign is running with rows
	// queued on limited channels.
	ETA *time.Duration
}

// etaSample is how many queued rows the ETA's channel shares are read
// from: an index range and that many row reads, however large the
// campaign.
const etaSample = 1000

// Pace returns the rates c is held to and, while it runs, how long its
// queued rows should take.
func (s *Service) Pace(ctx context.Context, c *Campaign, queued int) (*Pace, error) {
	p := &Pace{Rates: map[channels.Name]int{}}
	for _, ch := range c.Channels {
		p.Rates[ch] = s.rateInForce(c, ch)
	}
	if c.Status != StatusRunning || queued <= 0 {
		return p, nil
	}
	share, sampled := map[channels.Name]int{}, 0
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var ch string
		var n int
		if err := row.Scan(&ch, &n); err != nil {
			return err
		}
		share[channels.Name(ch)] += n
		sampled += n
		return nil
	}, `SELECT channel, COUNT(*) FROM (SELECT channel FROM deliveries
		WHERE campaign_id = $1 AND status = 'queued' LIMIT $2) q GROUP BY channel`, c.ID, etaSample)
	if err != nil {
		return nil, fmt.Errorf("campaign pace: %w", err)
	}
	var longest time.Duration
	for ch, n := range share {
		rate := s.rateInForce(c, ch)
		if rate <= 0 {
			continue
		}
		rowsOn := float64(queued) * float64(n) / float64(sampled)
		longest = max(longest, time.Duration(rowsOn/float64(rate)*float64(time.Second)))
	}
	if longest == 0 {
		return p, nil
	}
	now := s.db.Now()
	if until := c.holdUntil(now, ""); !until.IsZero() {
		longest += until.Sub(now)
	}
	longest = longest.Round(time.Second)
	p.ETA = &longest
	return p, nil
}

// ETASeconds is the ETA in whole seconds; nil when there is none.
func (p *Pace) ETASeconds() *int64 {
	if p.ETA == nil {
		return nil
	}
	secs := int64(*p.ETA / time.Second)
	return &secs
}
