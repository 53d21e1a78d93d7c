package feedback

import (
	"time"

	"github.com/handoverhq/handover"
)

// Targets are the SLA targets of one priority, in business hours.
type Targets struct {
	FirstResponse time.Duration
	Resolution    time.Duration
}

// DefaultTargets are the SLA targets per priority (a business day is nine
// hours).
var DefaultTargets = map[string]Targets{
	PriorityUrgent: {FirstResponse: time.Hour, Resolution: 4 * time.Hour},
	PriorityHigh:   {FirstResponse: 2 * time.Hour, Resolution: 9 * time.Hour},
	PriorityNormal: {FirstResponse: 4 * time.Hour, Resolution: 18 * time.Hour},
	PriorityLow:    {FirstResponse: 9 * time.Hour, Resolution: 45 * time.Hour},
}

// Calendar says when the service desk works: opening hours on working
// weekdays in one time zone, minus holidays. SLA clocks only run then.
type Calendar struct {
	Location *time.Location
	// Open and Close are times of day, as durations since local midnight.
	Open, Close time.Duration
	// Workdays holds the working weekdays (index time.Sunday .. time.Saturday).
	Workdays [7]bool
	// Holidays are local dates ("2006-01-02") the desk is closed.
	Holidays map[string]bool
}

// DefaultCalendar is Monday to Friday, 09:00–18:00 Asia/Shanghai, no holidays.
func DefaultCalendar() *Calendar {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil { // no tz database on the host: China has no DST
		loc = time.FixedZone("CST", 8*3600)
	}
	c := &Calendar{Location: loc, Open: 9 * time.Hour, Close: 18 * time.Hour, Holidays: map[string]bool{}}
	for d := time.Monday; d <= time.Friday; d++ {
		c.Workdays[d] = true
	}
	return c
}

// SetHolidays replaces the holiday list with dates written YYYY-MM-DD
// (HANDOVER_TICKET_HOLIDAYS).
func (c *Calendar) SetHolidays(dates []string) error {
	h := make(map[string]bool, len(dates))
	for _, d := range dates {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return handover.Errorf(handover.EINVALID, "holiday %q is not a date written YYYY-MM-DD", d)
		}
		h[d] = true
	}
	c.Holidays = h
	return nil
}

// working reports whether the local day of t is a working day.
func (c *Calendar) working(t time.Time) bool {
	return c.Workdays[t.Weekday()] && !c.Holidays[t.Format(time.DateOnly)]
}

// Add returns the moment d business hours after start: the clock runs only
// between Open and Close on working days. A start outside hours begins at
// the next opening. The result is in UTC.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	t := start.In(c.Location)
	// Ten years of closed days means the calendar has no working day.
	for range 3660 {
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.Location)
		next := midnight.AddDate(0, 0, 1)
		if !c.working(t) {
			t = next
			continue
		}
		open, closing := midnight.Add(c.Open), midnight.Add(c.Close)
		if t.Before(open) {
			t = open
		}
		if !t.Before(closing) {
			t = next
			continue
		}
		left := closing.Sub(t)
		if d <= left {
			return t.Add(d).UTC()
		}
		d -= left
		t = next
	}
	return noDeadline
}

// deadlines are a new ticket's SLA deadlines.
func (s *Service) deadlines(created time.Time, priority string) (firstResponse, resolution time.Time) {
	tg, ok := s.cfg.Targets[priority]
	if !ok {
		tg = DefaultTargets[PriorityNormal]
	}
	return s.cfg.Calendar.Add(created, tg.FirstResponse), s.cfg.Calendar.Add(created, tg.Resolution)
}

// nextDue is the deadline the ticket is working towards: the first
// response until staff answered, then resolution; none once it is done.
func nextDue(status Status, firstResponseAt *time.Time, firstResponseDue, resolutionDue time.Time) time.Time {
	switch {
	case status != StatusNew && status != StatusOpen && status != StatusPending:
		return noDeadline
	case firstResponseAt == nil && firstResponseDue.Before(resolutionDue):
		return firstResponseDue
	}
	return resolutionDue
}
