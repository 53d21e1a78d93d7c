package channels_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
)

func notices(n int) []channels.Message {
	var msgs []channels.Message
	for i := range n {
		msgs = append(msgs, channels.Message{DeliveryID: fmt.Sprint("d", i), Kind: channels.Notice, Text: "x"})
	}
	return msgs
}

// tally checks the results are for msgs in order and counts those sent
// and those held RateLimited with a wait.
func tally(t *testing.T, msgs []channels.Message, res []channels.Result) (sent, held int, wait time.Duration) {
	t.Helper()
	if len(res) != len(msgs) {
		t.Fatalf("%d results for %d messages", len(res), len(msgs))
	}
	for i, r := range res {
		if r.DeliveryID != msgs[i].DeliveryID {
			t.Fatalf("result %d is for %s, want %s", i, r.DeliveryID, msgs[i].DeliveryID)
		}
		var se *channels.SendError
		switch {
		case r.Err == nil:
			sent++
		case errors.As(r.Err, &se) && se.Class == channels.RateLimited && se.RetryAfter > 0:
			held++
			wait = se.RetryAfter
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	return sent, held, wait
}

// TestLimitedPacesTheRate sends through the devbox at 5/s on a simulated
// clock: Send waits in the worker for each send's slot rather than handing
// sends back, unless they would go past the batch's pace bound, or the
// bucket is booked further ahead than MaxPaceWait (those wait in the
// queue).
func TestLimitedPacesTheRate(t *testing.T) {
	db := dbtest.SQLite(t)
	q := queuetest.Open(t)
	ctx := context.Background()
	vault := piitest.Vault(t, db)
	box := devbox.New(db, vault.Keys, nil)
	clock := &simClock{now: simStart}
	limiter := channels.NewLimiter(q.Redis, "rl:")
	limiter.Clock = clock
	ch := channels.NewLimited(box, limiter, "华东五金", 5)
	if ch.Name() != channels.Devbox || ch.Capabilities().MaxBatch == 0 {
		t.Fatal("the wrapper hides the channel's name or capabilities")
	}
	logged := channels.NewLogged(ch, channels.NewSentLog(db, vault.Index, nil), nil)
	if channels.RateOf(logged) != 5 || channels.RateOf(box) != 0 {
		t.Fatalf("rate of the logged, limited devbox %d, of the devbox %d", channels.RateOf(logged), channels.RateOf(box))
	}

	msgs := notices(25)
	if sent, held, _ := tally(t, msgs, ch.Send(ctx, msgs)); sent != 25 || held != 0 {
		t.Fatalf("sent %d, held %d; want all 25 paced", sent, held)
	}
	// 25 sends at 5/s: the last went 4.8 s after the first.
	if took := clock.now.Sub(simStart); took != 4800*time.Millisecond {
		t.Fatalf("25 sends at 5/s took %v on the simulated clock", took)
	}

	// A bound 1.1 s away: the sends due by then go, the rest are held.
	start := clock.now
	bound := channels.PaceUntil(ctx, start.Add(1100*time.Millisecond))
	msgs = notices(10)
	if sent, held, wait := tally(t, msgs, ch.Send(bound, msgs)); sent != 5 || held != 5 || wait > 200*time.Millisecond {
		t.Fatalf("sent %d, held %d (wait %v) with 1 s to go at 5/s; want 5 and 5 held briefly", sent, held, wait)
	}

	// Another worker booked the bucket 30 s ahead: nothing waits that long here.
	other := channels.NewLimiter(q.Redis, "rl:")
	other.Clock = &frozenClock{now: clock.now}
	for range 150 {
		if n, _, err := other.Wait(ctx, channels.LimitKey(channels.Devbox, "华东五金"), 5, 1, time.Minute); n != 1 || err != nil {
			t.Fatal(n, err)
		}
	}
	msgs = notices(3)
	if sent, held, wait := tally(t, msgs, ch.Send(ctx, msgs)); sent != 0 || held != 3 || wait < 15*time.Second {
		t.Fatalf("sent %d, held %d (wait %v) on a bucket 30 s ahead; want all held ~20 s", sent, held, wait)
	}
	recorded, _ := box.Find(ctx, "", 100)
	if len(recorded) != 30 {
		t.Fatalf("devbox recorded %d, want only the 30 sent", len(recorded))
	}
}
