package governance_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
)

// TestTrainingAttemptsLimited is finding 7: the quiz had no attempt limit,
// so trying every answer passed it on attempt 46 in under a second. Now
// MaxAttempts an hour count, in parallel too, and the refusal says when
// to try again.
func TestTrainingAttemptsLimited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return clock }
		g := governance.New(db, governance.Config{})
		agent := newMember(t, staff.NewStore(db), "agent@example.com", staff.Agent)
		mod := &governance.Module{Role: staff.Agent, Title: "基础", Body: "只在需要时查看。",
			Questions: []governance.Question{{Q: "何时？", Options: []string{"随时", "需要时", "从不"}, Answer: 1}}, PassScore: 100}
		if err := g.CreateModule(ctx, mod, "staff:admin"); err != nil {
			t.Fatal(err)
		}
		// Guess in parallel: only MaxAttempts count.
		var wg sync.WaitGroup
		var mu sync.Mutex
		var taken, refused int
		for range 10 {
			wg.Go(func() {
				_, err := g.TakeTraining(ctx, agent, mod.ID, []int{0})
				mu.Lock()
				defer mu.Unlock()
				switch handover.ErrorCode(err) {
				case "":
					taken++
				case handover.ETOOMANY:
					refused++
				default:
					t.Errorf("attempt: %v", err)
				}
			})
		}
		wg.Wait()
		if taken != governance.MaxAttempts {
			t.Fatalf("%d attempts counted, %d refused; want %d counted", taken, refused, governance.MaxAttempts)
		}
		_, err := g.TakeTraining(ctx, agent, mod.ID, []int{1}) // the right answer, too late
		if handover.ErrorCode(err) != handover.ETOOMANY || !strings.Contains(handover.ErrorMessage(err), "retry after 2026-12-05 10:00 UTC") {
			t.Fatalf("fourth attempt: %v", err)
		}
		if results, _ := g.TrainingResults(ctx, agent.ID); len(results) != governance.MaxAttempts {
			t.Fatalf("%d results recorded", len(results))
		}
		clock = clock.Add(time.Hour)
		if r, err := g.TakeTraining(ctx, agent, mod.ID, []int{1}); err != nil || !r.Passed {
			t.Fatalf("after the window: %+v, %v", r, err)
		}
	})
}
