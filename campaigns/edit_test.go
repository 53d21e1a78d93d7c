package campaigns_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// TestCampaignUpdateFollowUpTimeline: a draft is edited (list replaced,
// scheduled, then a draft again), a started one cannot be; after sending,
// FollowUp names who did not open or decide and the timeline counts the
// sends.
func TestCampaignUpdateFollowUpTimeline(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		list, _, err := e.cs.FindCustomers(ctx, customers.Filter{Region: "上海"})
		if err != nil || len(list) != 2 {
			t.Fatalf("customers in 上海: %d %v", len(list), err)
		}
		c := e.create("转让告知")
		c.Name, c.Audience.CustomerIDs = "转让告知(上海)", []string{list[0].ID, list[1].ID}
		at := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		c.SendAt = &at
		if err := e.svc.Update(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		got, _ := e.svc.FindCampaignByID(ctx, c.ID)
		ids, _ := e.svc.AudienceList(ctx, c.ID)
		if got.Status != campaigns.StatusScheduled || !got.SendAt.Equal(at) || got.Name != c.Name || len(ids) != 2 {
			t.Fatalf("after update: %+v, list %v", got, ids)
		}
		c.SendAt, c.Audience.CustomerIDs = nil, []string{list[0].ID}
		if err := e.svc.Update(ctx, c, "staff:test"); err != nil {
			t.Fatal(err)
		}
		got, _ = e.svc.FindCampaignByID(ctx, c.ID)
		if ids, _ = e.svc.AudienceList(ctx, c.ID); got.Status != campaigns.StatusDraft || len(ids) != 1 {
			t.Fatalf("back to draft: %s, list %v", got.Status, ids)
		}
		c.Name = ""
		if err := e.svc.Update(ctx, c, "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("nameless update: %v", err)
		}
		c.Name = "转让告知(上海)"
		if err := e.svc.Start(ctx, c.ID, "staff:test"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Update(ctx, c, "staff:test"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Fatalf("update of a started campaign: %v", err)
		}
		e.runWorker()
		e.waitStatus(c.ID, campaigns.StatusCompleted)
		for _, step := range []string{campaigns.NotOpened, campaigns.NotDecided} {
			ids, err := e.svc.FollowUp(ctx, c.ID, step)
			if err != nil || len(ids) != 1 || ids[0] != list[0].ID {
				t.Fatalf("%s: %v %v", step, ids, err)
			}
		}
		if _, err := e.svc.FollowUp(ctx, c.ID, "all"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("unknown step: %v", err)
		}
		tl, err := e.svc.Timeline(ctx, c.ID)
		if err != nil || len(tl.Sent) == 0 {
			t.Fatalf("timeline %+v %v", tl, err)
		}
		sent := 0
		for _, n := range tl.Sent {
			sent += n
		}
		if sent != 1 || len(tl.Delivered) != len(tl.Sent) {
			t.Fatalf("timeline sent %d over %d buckets", sent, len(tl.Sent))
		}
	})
}
