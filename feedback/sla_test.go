package feedback_test

import (
	"context"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
)

// TestCalendarAdd counts business hours: Monday to Friday 09:00–18:00
// Shanghai, with 2026-10-01 and 10-02 (Thursday, Friday) as holidays.
func TestCalendarAdd(t *testing.T) {
	cal := feedback.DefaultCalendar()
	if err := cal.SetHolidays([]string{"2026-10-01", "2026-10-02"}); err != nil {
		t.Fatal(err)
	}
	sh := cal.Location
	at := func(month time.Month, day, hour, minute int) time.Time {
		return time.Date(2026, month, day, hour, minute, 0, 0, sh)
	}
	for _, c := range []struct {
		name  string
		start time.Time
		add   time.Duration
		want  time.Time
	}{
		{"inside one day", at(11, 23, 10, 0), 2 * time.Hour, at(11, 23, 12, 0)},
		{"ends exactly at closing", at(11, 23, 9, 0), 9 * time.Hour, at(11, 23, 18, 0)},
		{"runs over into the next morning", at(11, 23, 17, 0), 2 * time.Hour, at(11, 24, 10, 0)},
		{"before opening starts at opening", at(11, 23, 7, 30), time.Hour, at(11, 23, 10, 0)},
		{"after closing starts next morning", at(11, 23, 18, 0), time.Hour, at(11, 24, 10, 0)},
		{"late evening", at(11, 23, 23, 59), 30 * time.Minute, at(11, 24, 9, 30)},
		{"friday afternoon to monday", at(11, 27, 17, 0), 2 * time.Hour, at(11, 30, 10, 0)},
		{"saturday starts monday", at(11, 28, 12, 0), time.Hour, at(11, 30, 10, 0)},
		{"sunday night", at(11, 29, 22, 0), 4 * time.Hour, at(11, 30, 13, 0)},
		{"two business days", at(11, 23, 14, 0), 18 * time.Hour, at(11, 25, 14, 0)},
		{"holidays skipped", at(9, 30, 17, 0), 2 * time.Hour, at(10, 5, 10, 0)},
		{"starting on a holiday", at(10, 1, 10, 0), time.Hour, at(10, 5, 10, 0)},
		{"zero at a working moment", at(11, 23, 11, 0), 0, at(11, 23, 11, 0)},
		{"a working week", at(11, 23, 9, 0), 45 * time.Hour, at(11, 27, 18, 0)},
		{"UTC input", time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC), time.Hour, at(11, 24, 9, 30)}, // 17:30 Shanghai
	} {
		t.Run(c.name, func(t *testing.T) {
			got := cal.Add(c.start, c.add)
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Fatalf("Add(%s, %s) = %s, want %s", c.start, c.add, got.In(sh), c.want)
			}
		})
	}
	if err := cal.SetHolidays([]string{"2026-13-01"}); err == nil {
		t.Fatal("a bad holiday was accepted")
	}
}

// TestSLADeadlinesAndBreach: a normal ticket opened Friday 17:00 is due a
// first response Monday 12:00; once that passes the ticket reads breached,
// the periodic check flags it, and the breached filter finds it; the first
// reply moves the clock on to resolution.
func TestSLADeadlinesAndBreach(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db, "")
		sh := feedback.DefaultCalendar().Location
		e.now = time.Date(2026, 11, 27, 17, 0, 0, 0, sh).UTC()
		e.message(channels.Devbox, "张三", "你好")
		tk := e.tickets("张三")[0]
		if want := time.Date(2026, 11, 30, 12, 0, 0, 0, sh); !tk.FirstResponseDue.Equal(want) || !tk.SLADue.Equal(want) {
			t.Fatalf("first response due %s, want %s", tk.FirstResponseDue.In(sh), want)
		}
		if want := time.Date(2026, 12, 1, 17, 0, 0, 0, sh); !tk.ResolutionDue.Equal(want) {
			t.Fatalf("resolution due %s, want %s", tk.ResolutionDue.In(sh), want)
		}
		e.advance(3 * 24 * time.Hour) // Monday 17:00
		got, _ := e.svc.FindTicketByID(ctx, tk.ID)
		if !got.Breached {
			t.Fatal("an overdue ticket does not read breached")
		}
		if n, _, err := e.svc.CheckSLA(ctx); err != nil || n != 1 {
			t.Fatalf("check: %d, %v", n, err)
		}
		if n, _, _ := e.svc.CheckSLA(ctx); n != 0 {
			t.Fatalf("flagged twice: %d", n)
		}
		list, _, err := e.svc.FindTickets(ctx, feedback.Filter{Breached: true})
		if err != nil || len(list) != 1 {
			t.Fatalf("breached filter: %d, %v", len(list), err)
		}
		m, err := e.svc.Reply(ctx, tk.ID, "agent1", "您好，已收到", "")
		if err != nil || m.DeliveryStatus != "sent" {
			t.Fatalf("reply: %+v, %v", m, err)
		}
		got, _ = e.svc.FindTicketByID(ctx, tk.ID)
		if got.Status != feedback.StatusPending || got.FirstResponseAt == nil || !got.SLADue.Equal(got.ResolutionDue) {
			t.Fatalf("after reply %+v", got)
		}
	})
}

// TestQueueOrderAndPaging: the queue sorts by the next deadline and pages
// by cursor without gaps or repeats.
func TestQueueOrderAndPaging(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		csv := "姓名,手机\n"
		for i := range 7 {
			csv += "客户" + string(rune('A'+i)) + ",1380000000" + string(rune('0'+i)) + "\n"
		}
		e := newEnv(t, db, csv)
		for i := range 7 {
			text := "你好"
			if i%3 == 0 {
				text = "投诉"
			}
			e.message(channels.SMS, "客户"+string(rune('A'+i)), text)
			e.advance(time.Minute)
		}
		var all []*feedback.Ticket
		for cursor := ""; ; {
			page, next, err := e.svc.FindTickets(ctx, feedback.Filter{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, page...)
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(all) != 7 {
			t.Fatalf("%d tickets over the pages", len(all))
		}
		for i := 1; i < len(all); i++ {
			if all[i].SLADue.Before(*all[i-1].SLADue) {
				t.Fatalf("ticket %d due %s before %s", i, all[i].SLADue, all[i-1].SLADue)
			}
		}
		if all[0].Priority != feedback.PriorityHigh || all[2].Priority != feedback.PriorityHigh {
			t.Fatalf("complaints (high) come first: %s %s", all[0].Priority, all[2].Priority)
		}
		if _, _, err := e.svc.FindTickets(ctx, feedback.Filter{Cursor: "bad"}); err == nil {
			t.Fatal("a bad cursor was accepted")
		}
	})
}
