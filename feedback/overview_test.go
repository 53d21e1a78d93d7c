package feedback_test

import (
	"context"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// TestCountsAndPreviews: the queue's counts, and the first line of each
// ticket's latest customer message, audited once per page.
func TestCountsAndPreviews(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.WeChat, "张三", "你好")
		e.message(channels.WeChat, "张三", "第二条\n更多内容")
		e.message(channels.SMS, "李四", "我要投诉"+strings.Repeat("很", 100))
		e.message(channels.SMS, "", "陌生人", from("+8613500000000"))
		list := e.tickets("张三")
		if _, err := e.svc.UpdateTicket(ctx, list[0].ID, feedback.Update{AssigneeID: ptr("")}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.Counts(ctx, "")
		if err != nil || c.Open != 3 || c.Unassigned != 3 || c.Mine != 0 || c.ByCategory["complaint"] != 1 || c.ByChannel["sms"] != 2 || c.Breached != 0 {
			t.Fatalf("counts %+v, %v", c, err)
		}
		queue, _, _ := e.svc.FindTickets(ctx, feedback.Filter{})
		ids := make([]string, len(queue))
		for i, tk := range queue {
			ids[i] = tk.ID
		}
		p, err := e.svc.Previews(ctx, ids, "staff:test")
		if err != nil || len(p) != 3 || p[list[0].ID] != "第二条" {
			t.Fatalf("previews %v, %v", p, err)
		}
		for _, line := range p {
			if n := len([]rune(line)); n > 80 {
				t.Fatalf("preview of %d characters", n)
			}
		}
		if e.auditCount("ticket.preview", ids[0]) != 1 {
			t.Fatal("previews not audited")
		}
	})
}
