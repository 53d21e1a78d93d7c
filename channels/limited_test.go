package channels_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
)

func TestLimitedHoldsWhatIsOverTheRate(t *testing.T) {
	db := dbtest.SQLite(t)
	q := queuetest.Open(t)
	box := devbox.New(db, piitest.Vault(t, db).Keys, nil)
	ch := channels.NewLimited(box, channels.NewLimiter(q.Redis, "rl:"), "华东五金", 5)
	if ch.Name() != channels.Devbox || ch.Capabilities().MaxBatch == 0 {
		t.Fatal("the wrapper hides the channel's name or capabilities")
	}
	var msgs []channels.Message
	for i := range 8 {
		msgs = append(msgs, channels.Message{DeliveryID: fmt.Sprint("d", i), Kind: channels.Notice, Text: "x"})
	}
	res := ch.Send(context.Background(), msgs)
	sent, held := 0, 0
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
		default:
			t.Fatalf("unexpected result %+v", r)
		}
	}
	if sent != 5 || held != 3 {
		t.Fatalf("sent %d, held %d; want 5 and 3 at 5/s", sent, held)
	}
	recorded, _ := box.Find(context.Background(), "", 100)
	if len(recorded) != 5 {
		t.Fatalf("devbox recorded %d, want only the 5 allowed", len(recorded))
	}
}
