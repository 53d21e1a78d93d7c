package channels

import "context"

// Limited is a channel whose sends keep to a rate shared by every worker
// through Redis. Messages over the rate come back RateLimited with the
// wait, so the caller retries them later without using up a retry.
type Limited struct {
	Channel
	limiter   *Limiter
	key       string
	perSecond int
}

// NewLimited wraps ch at perSecond sends for sender (an SMS sign name, a
// WeChat app id, an SMTP relay); perSecond <= 0 means no limit.
func NewLimited(ch Channel, l *Limiter, sender string, perSecond int) *Limited {
	return &Limited{Channel: ch, limiter: l, key: LimitKey(ch.Name(), sender), perSecond: perSecond}
}

// Send sends as many messages as the rate allows now and answers the rest
// RateLimited.
func (l *Limited) Send(ctx context.Context, msgs []Message) []Result {
	allowed, wait, err := l.limiter.Take(ctx, l.key, l.perSecond, len(msgs))
	if err != nil {
		// Without Redis the shared rate cannot be kept: hold everything.
		return refuse(msgs, Errorf(Transient, "", "rate limiter unavailable"))
	}
	results := make([]Result, 0, len(msgs))
	if allowed > 0 {
		results = append(results, l.Channel.Send(ctx, msgs[:allowed])...)
	}
	over := &SendError{Class: RateLimited, Message: "send rate reached", RetryAfter: wait}
	return append(results, refuse(msgs[allowed:], over)...)
}

func refuse(msgs []Message, err *SendError) []Result {
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		out[i] = Result{DeliveryID: m.DeliveryID, Err: err}
	}
	return out
}
