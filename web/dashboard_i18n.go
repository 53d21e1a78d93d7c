package web

import (
	"fmt"
	"time"

	"github.com/handoverhq/handover/locales"
)

// translate returns the text of a message key in locale (zh-CN or en)
// from the catalog (locales/), the key itself when it has none, so a
// missing text shows, not blanks.
func translate(locale, key string) string { return locales.T(locale, key) }

// relative says how long ago t was, in the member's language; a time more
// than a week old is shown as a date in zone.
func relative(locale string, now, t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	zh := locale != "en"
	switch {
	case d < 0:
		return t.In(zone).Format("2006-01-02 15:04")
	case d < time.Minute:
		return map[bool]string{true: "刚刚", false: "just now"}[zh]
	case d < time.Hour:
		return unit(zh, int(d/time.Minute), "分钟前", "min ago")
	case d < 24*time.Hour:
		return unit(zh, int(d/time.Hour), "小时前", "h ago")
	case d < 7*24*time.Hour:
		return unit(zh, int(d/(24*time.Hour)), "天前", "d ago")
	}
	return t.In(zone).Format("2006-01-02")
}

func unit(zh bool, n int, zhUnit, enUnit string) string {
	if zh {
		return fmt.Sprintf("%d %s", n, zhUnit)
	}
	return fmt.Sprintf("%d %s", n, enUnit)
}
