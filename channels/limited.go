package channels

import (
	"context"
	"time"
)

// MaxPaceWait is the longest a send waits in the worker for its slot
// under a rate. A bucket booked further ahead than that (many workers on
// one slow rate) answers RateLimited, and the caller waits in the queue.
const MaxPaceWait = 10 * time.Second

// Limited is a channel whose sends keep to a rate shared by every worker
// through Redis. Send paces: it sends a slice of the messages each time the
// rate has room for it and sleeps in between, so the rate is kept exactly.
// Messages it cannot send before the context's pace bound (PaceUntil) or
// within MaxPaceWait come back RateLimited with the wait, so the caller
// retries them later without using up a retry.
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

// Rate is the rate Send keeps, in messages per second; 0 is none.
func (l *Limited) Rate() int { return max(0, l.perSecond) }

// Unwrap returns the channel l sends through.
func (l *Limited) Unwrap() Channel { return l.Channel }

// Send sends msgs a slice at a time as the rate allows and answers the
// ones it could not send in time RateLimited.
func (l *Limited) Send(ctx context.Context, msgs []Message) []Result {
	results := make([]Result, 0, len(msgs))
	for done := 0; done < len(msgs); {
		rest := msgs[done:]
		n, wait, err := l.limiter.Wait(ctx, l.key, l.perSecond, len(rest), PaceBudget(ctx, l.limiter.now()))
		switch {
		case err != nil && ctx.Err() != nil:
			return append(results, refuse(rest, &SendError{Class: RateLimited, Message: "send stopped while pacing", RetryAfter: time.Second})...)
		case err != nil:
			// Without Redis the shared rate cannot be kept: hold everything.
			return append(results, refuse(rest, Errorf(Transient, "", "rate limiter unavailable"))...)
		case n == 0:
			return append(results, refuse(rest, &SendError{Class: RateLimited, Message: "send rate reached", RetryAfter: wait})...)
		}
		got := l.Channel.Send(ctx, rest[:n])
		if len(got) < n { // keep results in step with msgs
			got = append(got, refuse(rest[len(got):n], Errorf(Transient, "", "channel returned no result"))...)
		}
		results = append(results, got[:n]...)
		done += n
	}
	return results
}

func refuse(msgs []Message, err *SendError) []Result {
	out := make([]Result, len(msgs))
	for i, m := range msgs {
		out[i] = Result{DeliveryID: m.DeliveryID, Err: err}
	}
	return out
}

// RateOf is the shared rate ch keeps (a Limited, found through wrappers
// that Unwrap), in messages per second; 0 is none.
func RateOf(ch Channel) int {
	for ch != nil {
		if l, ok := ch.(*Limited); ok {
			return l.Rate()
		}
		w, ok := ch.(interface{ Unwrap() Channel })
		if !ok {
			return 0
		}
		ch = w.Unwrap()
	}
	return 0
}

type paceKey struct{}

// PaceUntil returns a context under which sends wait for their slot under
// a rate only until t: a batch task passes the time it must stop sending
// by to record what it sent before its lease ends.
func PaceUntil(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, paceKey{}, t)
}

// PaceBudget is how long a send under ctx may wait now for its slot: at
// most MaxPaceWait, and not past ctx's pace bound (PaceUntil) or deadline.
func PaceBudget(ctx context.Context, now time.Time) time.Duration {
	budget := MaxPaceWait
	if t, ok := ctx.Value(paceKey{}).(time.Time); ok {
		budget = min(budget, t.Sub(now))
	}
	if d, ok := ctx.Deadline(); ok {
		budget = min(budget, d.Sub(now))
	}
	return max(0, budget)
}
