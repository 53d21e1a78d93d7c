package feedback_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// TestReplyJoinsOpenTicket: a customer's second message joins their open
// ticket; a complaint opens a ticket of its own, high priority; a retried
// event adds nothing; reading the conversation is audited.
func TestReplyJoinsOpenTicket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "")
		first := e.message(channels.WeChat, "张三", "你好，新公司的电话是多少？")
		e.advance(time.Minute)
		e.message(channels.SMS, "张三", "还有地址")
		if err := e.svc.HandleInboundEvent(context.Background(), first); err != nil { // the Inbox retried
			t.Fatal(err)
		}
		list := e.tickets("张三")
		if len(list) != 1 {
			t.Fatalf("%d tickets, want 1", len(list))
		}
		tk := list[0]
		if tk.Status != feedback.StatusNew || tk.Category != feedback.CategoryGeneral || tk.Channel != channels.SMS || tk.Unmatched {
			t.Fatalf("ticket %+v", tk)
		}
		if got := texts(e.view(tk.ID)); got != "in:你好，新公司的电话是多少？ | in:还有地址" {
			t.Fatalf("conversation %q", got)
		}
		if e.auditCount("ticket.read", tk.ID) != 1 {
			t.Fatal("reading the conversation was not audited")
		}
		if db.Dialect == database.SQLite { // the text is sealed at rest
			var path string
			db.QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path)
			db.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
			if raw, err := os.ReadFile(path); err != nil || bytes.Contains(raw, []byte("新公司的电话")) {
				t.Fatalf("message text in the database file in clear (%v)", err)
			}
		}
		e.message(channels.WeChat, "张三", "我要投诉你们的服务")
		list = e.tickets("张三")
		if len(list) != 2 || list[1].Category != feedback.CategoryComplaint || list[1].Priority != feedback.PriorityHigh {
			t.Fatalf("complaint: %d tickets, %+v", len(list), list[len(list)-1])
		}
		// An unclassified follow-up joins the most recently active open ticket.
		e.message(channels.WeChat, "张三", "请尽快回复")
		if got := texts(e.view(list[1].ID)); got != "in:我要投诉你们的服务 | in:请尽快回复" {
			t.Fatalf("complaint conversation %q", got)
		}
	})
}

// TestReopenWindow: a reply within the window after resolution reopens
// the ticket; after the window it opens a new one, and the periodic check
// closes the old resolved ticket.
func TestReopenWindow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.Email, "李四", "我的邮箱变了吗？")
		tk := e.tickets("李四")[0]
		if _, err := e.svc.UpdateTicket(ctx, tk.ID, feedback.Update{Status: ptr(feedback.StatusResolved)}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.advance(3 * 24 * time.Hour)
		e.message(channels.Email, "李四", "还是没收到")
		list := e.tickets("李四")
		if len(list) != 1 || list[0].Status != feedback.StatusOpen || list[0].ResolvedAt != nil {
			t.Fatalf("within the window: %d tickets, %+v", len(list), list[0])
		}
		if !list[0].ResolutionDue.After(e.db.Now()) {
			t.Fatalf("a reopened ticket's resolution clock restarts: due %s", list[0].ResolutionDue)
		}
		if _, err := e.svc.UpdateTicket(ctx, tk.ID, feedback.Update{Status: ptr(feedback.StatusResolved)}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.advance(8 * 24 * time.Hour)
		if _, closed, err := e.svc.CheckSLA(ctx); err != nil || closed != 1 {
			t.Fatalf("check: %d closed, %v", closed, err)
		}
		e.message(channels.Email, "李四", "又有问题")
		list = e.tickets("李四")
		if len(list) != 2 || list[0].Status != feedback.StatusClosed || list[1].Status != feedback.StatusNew {
			t.Fatalf("after the window: %d tickets", len(list))
		}
	})
}

// TestReopenAfterWindowWithoutSweep: past the window a reply opens a new
// ticket even when the resolved one was not closed yet.
func TestReopenAfterWindowWithoutSweep(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "")
		e.message(channels.SMS, "王五", "在吗")
		tk := e.tickets("王五")[0]
		if _, err := e.svc.UpdateTicket(context.Background(), tk.ID, feedback.Update{Status: ptr(feedback.StatusResolved)}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		e.advance(7*24*time.Hour + time.Minute)
		e.message(channels.SMS, "王五", "在吗？")
		list := e.tickets("王五")
		if len(list) != 2 || list[0].Status != feedback.StatusResolved || list[1].ID == tk.ID {
			t.Fatalf("%d tickets", len(list))
		}
	})
}

// TestUnmatchedSender: an unknown sender gets one unmatched ticket for
// their messages; staff can reply to them (here through the devbox) and
// link it to a customer, after which the text reads under the customer's
// key.
func TestUnmatchedSender(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.SMS, "", "我是老客户，换了号码", from("+8613511112222"))
		e.message(channels.SMS, "", "原来的号码是138…", from("+8613511112222"))
		e.message(channels.SMS, "", "别人", from("+8613599990000"))
		list, _, err := e.svc.FindTickets(ctx, feedback.Filter{})
		if err != nil || len(list) != 2 {
			t.Fatalf("%d tickets, %v", len(list), err)
		}
		var tk *feedback.Ticket
		for _, x := range list {
			if !x.Unmatched || x.CustomerID != "" {
				t.Fatalf("ticket %+v", x)
			}
			if len(e.view(x.ID).Messages) == 2 {
				tk = x
			}
		}
		if tk == nil {
			t.Fatal("the sender's two messages are not on one ticket")
		}
		if m, err := e.svc.Reply(ctx, tk.ID, "agent1", "您好", ""); err != nil || m.Channel != channels.Devbox || m.DeliveryStatus != "sent" {
			t.Fatalf("reply to unmatched: %+v, %v", m, err)
		}
		linked, err := e.svc.LinkCustomer(ctx, tk.ID, e.customer("王五"), "staff:test", false)
		if err != nil || linked.Unmatched || linked.CustomerID != e.customer("王五") {
			t.Fatalf("link: %+v, %v", linked, err)
		}
		if got := texts(e.view(tk.ID)); got != "in:我是老客户，换了号码 | in:原来的号码是138… | out:您好" {
			t.Fatalf("after link %q", got)
		}
		var envelopes int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ticket_messages WHERE ticket_id = $1 AND key_id <> ''`, tk.ID).Scan(&envelopes)
		if envelopes != 0 {
			t.Fatalf("%d messages still sealed in their own envelope", envelopes)
		}
		if e.auditCount("ticket.link", tk.ID) != 1 {
			t.Fatal("link not audited")
		}
		// The customer's next message joins the linked ticket.
		e.message(channels.SMS, "王五", "谢谢")
		if n := len(e.tickets("王五")); n != 1 {
			t.Fatalf("%d tickets after link", n)
		}
	})
}

// TestMerge moves a ticket's messages into another of the same customer.
func TestMerge(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.WeChat, "张三", "你好")
		e.advance(time.Minute)
		e.message(channels.WeChat, "张三", "投诉：送货太慢")
		list := e.tickets("张三")
		general, complaint := list[0], list[1]
		if _, err := e.svc.UpdateTicket(ctx, general.ID, feedback.Update{Tags: &[]string{"vip"}}, "staff:test"); err != nil {
			t.Fatal(err)
		}
		target, err := e.svc.Merge(ctx, complaint.ID, general.ID, "staff:test")
		if err != nil {
			t.Fatal(err)
		}
		if target.Priority != feedback.PriorityHigh || len(target.Tags) != 1 {
			t.Fatalf("target %+v", target)
		}
		if got := texts(e.view(general.ID)); got != "in:你好 | in:投诉：送货太慢" {
			t.Fatalf("merged conversation %q", got)
		}
		src, _ := e.svc.FindTicketByID(ctx, complaint.ID)
		if src.Status != feedback.StatusMerged || src.MergedInto != general.ID || src.SLADue != nil {
			t.Fatalf("source %+v", src)
		}
		if _, err := e.svc.Merge(ctx, complaint.ID, general.ID, "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("merge again: %v", err)
		}
		e.message(channels.WeChat, "李四", "hi")
		other := e.tickets("李四")[0]
		if _, err := e.svc.Merge(ctx, other.ID, general.ID, "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("merge across customers: %v", err)
		}
		if e.auditCount("ticket.merge", complaint.ID) != 1 {
			t.Fatal("merge not audited")
		}
	})
}

// TestNoteAndUpdate: notes are internal messages; updates are audited and
// checked.
func TestNoteAndUpdate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.SMS, "王五", "在吗")
		tk := e.tickets("王五")[0]
		if _, err := e.svc.AddNote(ctx, tk.ID, "agent1", "客户上周来过电话"); err != nil {
			t.Fatal(err)
		}
		if got := texts(e.view(tk.ID)); got != "in:在吗 | note:客户上周来过电话" {
			t.Fatalf("conversation %q", got)
		}
		before := tk.FirstResponseDue
		up, err := e.svc.UpdateTicket(ctx, tk.ID, feedback.Update{Priority: ptr(feedback.PriorityUrgent), Team: ptr("华东")}, "staff:test")
		if err != nil || !up.FirstResponseDue.Before(before) || up.Team != "华东" {
			t.Fatalf("update: %+v, %v", up, err)
		}
		for _, bad := range []feedback.Update{{Status: ptr(feedback.StatusMerged)}, {Priority: ptr("asap")}, {AssigneeID: ptr("nobody")}, {Category: ptr("Bad Cat")}} {
			if _, err := e.svc.UpdateTicket(ctx, tk.ID, bad, "staff:test"); handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("update %+v: %v", bad, err)
			}
		}
		if e.auditCount("ticket.update", tk.ID) != 1 || e.auditCount("ticket.note", tk.ID) != 1 {
			t.Fatal("update or note not audited")
		}
	})
}

// TestSubscribe: ticket events reach a subscriber through Redis.
func TestSubscribe(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "")
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		events, err := e.svc.Subscribe(ctx)
		if err != nil {
			t.Fatal(err)
		}
		e.message(channels.WeChat, "张三", "你好")
		select {
		case ev := <-events:
			if ev.Type != "created" || ev.TicketID == "" || ev.Actor != "customer:"+e.customer("张三") {
				t.Fatalf("event %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
		cancel()
		for range events { // closed once ctx ends
		}
	})
}

// TestConcurrentMessagesOneTicket: a customer's messages processed at
// once by several workers land on one ticket (the one-open-ticket index
// and a retry settle the race).
func TestConcurrentMessagesOneTicket(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "")
		errs := make(chan error, 8)
		for i := range 8 {
			go func() {
				errs <- e.svc.HandleInboundEvent(context.Background(), channels.InboundEvent{ID: fmt.Sprintf("ev%d", i),
					Channel: channels.SMS, Kind: channels.EventMessage, Text: fmt.Sprintf("消息%d", i), CustomerID: e.customer("李四")})
			}()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		list := e.tickets("李四")
		if len(list) != 1 || len(e.view(list[0].ID).Messages) != 8 {
			t.Fatalf("%d tickets", len(list))
		}
	})
}

// TestPortalSurvey: survey free text posted by the portal is a survey
// ticket; an opt-out word there is text, not an opt-out.
func TestPortalSurvey(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		e := newEnv(t, db, "")
		e.message(channels.Portal, "张三", "NPS 3：送货太慢")
		e.message(channels.Portal, "李四", "退订")
		for _, name := range []string{"张三", "李四"} {
			if l := e.tickets(name); len(l) != 1 || l[0].Category != feedback.CategorySurvey || l[0].Status != feedback.StatusNew {
				t.Fatalf("%s: %+v", name, l)
			}
		}
	})
}
