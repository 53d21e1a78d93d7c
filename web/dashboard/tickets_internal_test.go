package dashboard

import (
	"net/url"
	"testing"
	"time"

	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/staff"
)

func TestSLACountdown(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	for _, c := range []struct {
		name, locale  string
		status        feedback.Status
		due           *time.Time
		breached      bool
		text, urgency string
	}{
		{"no deadline", "en", feedback.StatusOpen, nil, false, "—", "none"},
		{"resolved", "en", feedback.StatusResolved, at(time.Hour), false, "—", "none"},
		{"overdue", "en", feedback.StatusOpen, at(-90 * time.Minute), false, "overdue 1 h 30 min", "breached"},
		{"overdue zh", "zh-CN", feedback.StatusNew, at(-5 * time.Minute), false, "已超时 5 分钟", "breached"},
		{"first response missed", "en", feedback.StatusPending, at(3 * time.Hour), true, "3 h 0 min", "breached"},
		{"soon", "en", feedback.StatusNew, at(20 * time.Minute), false, "20 min", "soon"},
		{"near", "zh-CN", feedback.StatusOpen, at(150 * time.Minute), false, "2 小时 30 分钟", "near"},
		{"later", "en", feedback.StatusOpen, at(50 * time.Hour), false, "2 d", "ok"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text, urgency := slaCountdown(c.locale, now, &feedback.Ticket{Status: c.status, SLADue: c.due, Breached: c.breached})
			if text != c.text || urgency != c.urgency {
				t.Fatalf("= %q, %q; want %q, %q", text, urgency, c.text, c.urgency)
			}
		})
	}
}

func TestQueueFilterMatches(t *testing.T) {
	now := time.Date(2026, 11, 23, 2, 0, 0, 0, time.UTC)
	past := now.Add(-time.Minute)
	open := &feedback.Ticket{Status: feedback.StatusOpen, Channel: "sms", Category: "general", AssigneeID: "s1", SLADue: &past,
		CustomerID: "c1", CreatedAt: time.Date(2026, 3, 10, 2, 0, 0, 0, time.UTC)} // 10:00 on the 10th in Shanghai
	for _, c := range []struct {
		query string
		want  bool
	}{
		{"", true},
		{"view=mine", true},
		{"view=unassigned", false},
		{"view=breached", true},
		{"channel=sms&category=general", true},
		{"channel=email", false},
		{"status=open", true},
		{"status=resolved", false},
		{"from=2026-03-10&to=2026-03-10", true},
		{"from=2026-03-11", false},
		{"to=2026-03-09", false},
	} {
		q, _ := url.ParseQuery(c.query)
		f, _, ok := queueFilter(q, &staff.Member{ID: "s1"})
		if !ok {
			t.Fatalf("%q: not a valid filter", c.query)
		}
		if got := matches(open, f, now); got != c.want {
			t.Errorf("%q: matches = %t; want %t", c.query, got, c.want)
		}
	}
	if matches(open, feedback.Filter{CustomerIDs: []string{"c2"}}, now) || !matches(open, feedback.Filter{CustomerIDs: []string{"c1"}}, now) {
		t.Error("a search by customer keeps another's ticket or drops its own")
	}
	for _, bad := range []string{"from=yesterday", "to=2026-13-01", "from=2026-03-10&to=2026-03-09"} {
		q, _ := url.ParseQuery(bad)
		if _, _, ok := queueFilter(q, &staff.Member{ID: "s1"}); ok {
			t.Errorf("%q: accepted", bad)
		}
	}
	if matches(&feedback.Ticket{Status: feedback.StatusResolved}, feedback.Filter{}, now) {
		t.Error("a resolved ticket matches the open queue")
	}
}

// FuzzQueueFilter: any query string gives a filter or a refusal, never a
// panic, and an accepted date range is in order.
func FuzzQueueFilter(f *testing.F) {
	for _, seed := range []string{"", "from=2026-03-10&to=2026-03-10", "to=2026-13-01", "view=mine&q=%E5%BC%A0", "from=0000-01-01&to=9999-12-31"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, _, ok := queueFilter(q, &staff.Member{ID: "s1", TimeZone: "Asia/Shanghai"})
		if ok && !fl.CreatedFrom.IsZero() && !fl.CreatedBefore.IsZero() && !fl.CreatedFrom.Before(fl.CreatedBefore) {
			t.Fatalf("%q: from %v not before %v", raw, fl.CreatedFrom, fl.CreatedBefore)
		}
		_ = savedQuery(q)
		_ = isTicketNumber(q.Get("q"))
	})
}
