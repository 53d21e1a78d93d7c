package feedback_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// mailSink is an SMTP server of the test's own and an email channel
// sending to it.
func mailSink(t *testing.T) (*smtptest.Sink, *email.Channel) {
	t.Helper()
	sink := smtptest.New(t)
	mail, err := email.New(email.Config{SMTPURL: sink.URL(), From: "Handover <service@example.com>", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mail.Close() })
	return sink, mail
}

// smsFake is the fake Aliyun SMS server and a channel sending to it.
func smsFake(t *testing.T) (*smsfake.Server, *sms.Channel) {
	t.Helper()
	fake := smsfake.New(t)
	sc, err := sms.New(fake.Config())
	if err != nil {
		t.Fatal(err)
	}
	return fake, sc
}

// TestReplyAssigns: the first reply to an unassigned ticket makes it the
// replier's, audited; a colleague's later reply leaves it with them.
func TestReplyAssigns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.Devbox, "张三", "在吗")
		tk := e.tickets("张三")[0]
		if _, err := e.svc.Reply(ctx, tk.ID, "agent1", "在的", ""); err != nil {
			t.Fatal(err)
		}
		if got := e.view(tk.ID).AssigneeID; got != "agent1" {
			t.Fatalf("assignee after the first reply = %q", got)
		}
		if _, err := e.svc.Reply(ctx, tk.ID, "agent2", "还有问题吗", ""); err != nil {
			t.Fatal(err)
		}
		if got := e.view(tk.ID).AssigneeID; got != "agent1" {
			t.Fatalf("assignee after a colleague's reply = %q", got)
		}
		if n := e.auditCount("ticket.update", tk.ID); n != 1 {
			t.Fatalf("%d ticket.update entries; want the one assignment", n)
		}
	})
}

// TestTellAtTheSinks: a decision staff took outside a ticket (a rejected
// correction) reaches the customer by email at a real SMTP server, on a
// new resolved correction ticket the first time and on the same ticket
// after; by SMS through the reply template for a customer without email;
// and a customer no channel reaches is a clear EINVALID.
func TestTellAtTheSinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		sink, mail := mailSink(t)
		e.svc = e.service(map[channels.Name]channels.Channel{channels.Email: mail}, "")

		text := "您提交的个人信息更正请求未获通过。原因：地址不完整。"
		m, err := e.svc.Tell(ctx, e.customer("李四"), feedback.CategoryCorrection, "agent1", text)
		if err != nil || m.Channel != channels.Email || m.DeliveryStatus != "sent" {
			t.Fatalf("tell: %+v, %v", m, err)
		}
		msgs := sink.Messages()
		if len(msgs) != 1 || msgs[0].To[0] != "li@example.com" || !strings.Contains(msgs[0].Text(), "地址不完整") {
			t.Fatalf("sink: %+v", msgs)
		}
		list := e.tickets("李四")
		if len(list) != 1 || list[0].Category != feedback.CategoryCorrection || list[0].Status != feedback.StatusResolved ||
			list[0].ResolvedAt == nil || list[0].AssigneeID != "agent1" {
			t.Fatalf("tickets: %+v", list)
		}
		if _, err := e.svc.Tell(ctx, e.customer("李四"), feedback.CategoryCorrection, "agent1", "第二次"); err != nil {
			t.Fatal(err)
		}
		if n := len(e.tickets("李四")); n != 1 || sink.Count() != 2 {
			t.Fatalf("%d tickets, %d mails; want the second on the same ticket", n, sink.Count())
		}
		if n := e.auditCount("ticket.reply", list[0].ID); n != 2 {
			t.Fatalf("%d ticket.reply entries", n)
		}

		// 王五 has no email and email is all there is.
		if _, err := e.svc.Tell(ctx, e.customer("王五"), feedback.CategoryCorrection, "agent1", text); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("unreachable customer: %v", err)
		}
		// With SMS and its reply template, 王五 gets it by SMS.
		fake, sc := smsFake(t)
		e.svc = e.service(map[channels.Name]channels.Channel{channels.Email: mail, channels.SMS: sc}, "SMS_REPLY_1")
		if m, err := e.svc.Tell(ctx, e.customer("王五"), feedback.CategoryCorrection, "agent1", text); err != nil || m.Channel != channels.SMS {
			t.Fatalf("tell by sms: %+v, %v", m, err)
		}
		if got := fake.Messages(); len(got) != 1 || got[0].Phone != "13700002222" || got[0].Params["content"] != text {
			t.Fatalf("sms sent %+v", got)
		}
		if _, err := e.svc.Tell(ctx, e.customer("王五"), feedback.CategoryCorrection, "agent1", " "); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("empty text: %v", err)
		}
	})
}

// TestSuggestChannelExplains: the reply form's choice names every
// channel with why it cannot carry the reply now, and why the default
// was chosen.
func TestSuggestChannelExplains(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.Devbox, "王五", "在吗") // no email, no openid; SMS is not set up
		choice, err := e.svc.SuggestChannel(ctx, e.tickets("王五")[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		blocked := map[channels.Name]string{}
		for _, o := range choice.Options {
			blocked[o.Name] = o.Blocked
		}
		if choice.Default != channels.Devbox || choice.Why != "last_used" || blocked[channels.WeChat] != feedback.BlockedNotConfigured ||
			blocked[channels.SMS] != feedback.BlockedNotConfigured || blocked[channels.Devbox] != "" || len(choice.Options) != 4 {
			t.Fatalf("choice %+v", choice)
		}
		e.svc = e.service(map[channels.Name]channels.Channel{channels.Email: e.box}, "")
		choice, err = e.svc.SuggestChannel(ctx, e.tickets("王五")[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if choice.Default != "" || choice.Why != "unreachable" || len(choice.Options) != 3 || choice.Options[2].Blocked != feedback.BlockedNoEmail {
			t.Fatalf("unreachable choice %+v", choice)
		}
	})
}

// TestTicketSearchFilters: tickets by a set of customers and by the day
// they were opened.
func TestTicketSearchFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		e.message(channels.Devbox, "张三", "一")
		e.advance(48 * time.Hour)
		e.message(channels.Devbox, "李四", "二")
		find := func(f feedback.Filter) int {
			t.Helper()
			list, _, err := e.svc.FindTickets(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		if n := find(feedback.Filter{CustomerIDs: []string{e.customer("张三")}}); n != 1 {
			t.Fatalf("张三's tickets: %d", n)
		}
		if n := find(feedback.Filter{CustomerIDs: []string{}}); n != 0 {
			t.Fatalf("no customers found: %d tickets", n)
		}
		if n := find(feedback.Filter{CreatedFrom: monday10.Add(24 * time.Hour)}); n != 1 {
			t.Fatalf("opened since tuesday: %d", n)
		}
		if n := find(feedback.Filter{CreatedBefore: monday10.Add(time.Hour)}); n != 1 {
			t.Fatalf("opened before 11:00 monday: %d", n)
		}
	})
}

// TestSavedFilters: per staff member, the same name replaces, another's
// filter is not theirs to delete, names are checked.
func TestSavedFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		f, err := e.svc.SaveFilter(ctx, "s1", "投诉", "category=complaint")
		if err != nil {
			t.Fatal(err)
		}
		if again, err := e.svc.SaveFilter(ctx, "s1", " 投诉 ", "category=complaint&view=mine"); err != nil || again.ID != f.ID {
			t.Fatalf("same name: %+v, %v", again, err)
		}
		if _, err := e.svc.SaveFilter(ctx, "s2", "投诉", "status=new"); err != nil {
			t.Fatal(err)
		}
		list, err := e.svc.SavedFilters(ctx, "s1")
		if err != nil || len(list) != 1 || list[0].Query != "category=complaint&view=mine" {
			t.Fatalf("s1's filters: %+v, %v", list, err)
		}
		if err := e.svc.DeleteFilter(ctx, "s2", f.ID); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Fatalf("deleting another's filter: %v", err)
		}
		for _, name := range []string{"", strings.Repeat("长", 61)} {
			if _, err := e.svc.SaveFilter(ctx, "s1", name, ""); handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("name %q: %v", name, err)
			}
		}
		if err := e.svc.DeleteFilter(ctx, "s1", f.ID); err != nil {
			t.Fatal(err)
		}
		if list, _ := e.svc.SavedFilters(ctx, "s1"); len(list) != 0 {
			t.Fatalf("after delete: %+v", list)
		}
	})
}
