package campaigns_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestRecoverStalledPlan leaves a campaign running and unplanned with its
// plan task held (as by a worker that died running it: the task's id is
// taken until Asynq recovers it). Recover leaves it alone while planning
// may still be moving, and once nothing moved for a lease enqueues a plan
// task of a new id, which plans and sends the campaign.
func TestRecoverStalledPlan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.create("stalled plan")
		if _, err := db.ExecContext(ctx, `UPDATE campaigns SET status = 'running', started_at = $1, updated_at = $1 WHERE id = $2`,
			db.Now(), c.ID); err != nil {
			t.Fatal(err)
		}
		task, opts := campaigns.NewPlanTask(c)
		if _, err := e.q.Client.EnqueueContext(ctx, task, opts...); err != nil { // the dead worker's copy
			t.Fatal(err)
		}
		planTasks := func() (ids []string) {
			list, err := e.q.Inspector.ListPendingTasks(campaigns.QueueName(channels.Devbox))
			if err != nil {
				t.Fatal(err)
			}
			for _, ti := range list {
				if ti.Type == campaigns.TypePlan {
					ids = append(ids, ti.ID)
				}
			}
			return ids
		}
		if n, err := e.svc.Recover(ctx); err != nil || n != 0 || len(planTasks()) != 1 {
			t.Fatalf("recover while planning may move: %d, %v; plan tasks %v", n, err, planTasks())
		}
		later := time.Now().Add(campaigns.DefaultLease + time.Second)
		db.Now = func() time.Time { return later.UTC().Truncate(time.Microsecond) }
		if n, err := e.svc.Recover(ctx); err != nil || n != 1 {
			t.Fatalf("recover a stalled plan: %d, %v", n, err)
		}
		ids := planTasks()
		if len(ids) != 2 || !strings.HasPrefix(ids[0]+ids[1], "campaign:"+c.ID+":plan") || ids[0] == ids[1] {
			t.Fatalf("plan tasks %v; want the held one and a new one", ids)
		}
		if err := e.q.Inspector.DeleteTask(campaigns.QueueName(channels.Devbox), "campaign:"+c.ID+":plan"); err != nil {
			t.Fatal(err) // the dead worker's copy never runs
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		if got := e.counts(c.ID); got["sent"] != 3 || got["skipped"] != 1 {
			t.Fatalf("counts %v; want 3 sent, 1 skipped", got)
		}
	})
}
