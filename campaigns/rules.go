package campaigns

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// DefaultTimeZone is where quiet hours are reckoned when a campaign names
// no zone: Handover's customers are in mainland China.
const DefaultTimeZone = "Asia/Shanghai"

// QuietHours is a daily window, in minutes after local midnight, in which
// nothing is sent: Start 21:00 and End 08:00 hold the evening's and the
// night's sends to 08:00. Start after End wraps over midnight.
type QuietHours struct {
	Start, End int
}

// ParseQuietHours reads "HH:MM" start and end times.
func ParseQuietHours(start, end string) (*QuietHours, error) {
	s, err := parseClock(start)
	if err != nil {
		return nil, err
	}
	e, err := parseClock(end)
	if err != nil {
		return nil, err
	}
	return &QuietHours{Start: s, End: e}, nil
}

func parseClock(v string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(v), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, handover.Errorf(handover.EINVALID, "quiet hours are times of day as HH:MM")
	}
	return hh*60 + mm, nil
}

// Clock formats minutes after midnight as HH:MM.
func Clock(min int) string { return fmt.Sprintf("%02d:%02d", min/60, min%60) }

// Until returns when the window containing t ends, or the zero time when t
// is outside it. t is in the zone the window is reckoned in.
func (q QuietHours) Until(t time.Time) time.Time {
	if q.Start == q.End {
		return time.Time{}
	}
	now := t.Hour()*60 + t.Minute()
	midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, t.Location())
	at := func(dayOffset, minutes int) time.Time {
		d := midnight.AddDate(0, 0, dayOffset)
		return time.Date(d.Year(), d.Month(), d.Day(), minutes/60, minutes%60, 0, 0, t.Location())
	}
	if q.Start < q.End { // e.g. 12:00–14:00
		if now >= q.Start && now < q.End {
			return at(0, q.End)
		}
		return time.Time{}
	}
	switch { // wraps midnight, e.g. 21:00–08:00
	case now >= q.Start:
		return at(1, q.End)
	case now < q.End:
		return at(0, q.End)
	}
	return time.Time{}
}

// holdUntil returns when c's quiet hours, reckoned in zone (a batch's,
// the customers'), let sends go again, or the zero time when now is
// outside them. An empty or unknown zone is the campaign's own.
func (c *Campaign) holdUntil(now time.Time, zone string) time.Time {
	if c.Quiet == nil {
		return time.Time{}
	}
	loc, err := time.LoadLocation(cmp.Or(zone, c.TimeZone))
	if err != nil {
		if loc, err = time.LoadLocation(c.TimeZone); err != nil {
			loc = shanghai
		}
	}
	return c.Quiet.Until(now.In(loc))
}

// shanghai is Asia/Shanghai (UTC+8, no daylight saving), with a fixed zone
// when the system has no zone database.
var shanghai = func() *time.Location {
	if loc, err := time.LoadLocation(DefaultTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*3600)
}()

// validateRules checks the time zone, quiet hours and rates of c.
func (s *Service) validateRules(c *Campaign, listed map[channels.Name]bool) error {
	if c.TimeZone == "" {
		c.TimeZone = DefaultTimeZone
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil && c.TimeZone != DefaultTimeZone {
		return handover.Errorf(handover.EINVALID, "time_zone %q is not a known IANA time zone", c.TimeZone)
	}
	if q := c.Quiet; q != nil {
		if q.Start < 0 || q.Start >= 24*60 || q.End < 0 || q.End >= 24*60 {
			return handover.Errorf(handover.EINVALID, "quiet hours are times of day")
		}
		if q.Start == q.End {
			c.Quiet = nil
		}
	}
	for ch, r := range c.Rates {
		if !listed[ch] {
			return handover.Errorf(handover.EINVALID, "rates names channel %s, which is not in channels", ch)
		}
		if r < 0 || r > 100000 {
			return handover.Errorf(handover.EINVALID, "rates are messages per second from 0 to 100000")
		}
	}
	return nil
}
