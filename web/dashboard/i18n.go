package dashboard

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/handoverhq/handover/channels"
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

// replyReasons are the reasons feedback.ChooseChannel records (in
// English, with the message) for the channel a reply went out on, and
// their keys in the catalog.
var replyReasons = map[string]string{
	"chosen by staff":                                  "reply_reason.staff",
	"the channel the customer last used":               "reply_reason.last_used",
	"first reachable channel":                          "reply_reason.first_reachable",
	"the customer has no WeChat openid":                "reply_reason.no_openid",
	"outside WeChat's 48-hour customer-service window": "reply_reason.outside_window",
	"the customer has no mobile number":                "reply_reason.no_mobile",
	"no SMS reply template is configured":              "reply_reason.no_sms_template",
	"the customer has no email address":                "reply_reason.no_email",
}

// ChannelReason words a recorded reply reason in the page's language:
// "first reachable channel (why; why)" and "<channel> is not configured
// for replies" included; a reason it does not know shows as recorded.
func (p *page) ChannelReason(reason string) string {
	head, rest, nested := strings.Cut(reason, " (")
	if key, ok := replyReasons[head]; ok {
		out := p.T(key)
		if nested {
			var parts []string
			for _, why := range strings.Split(strings.TrimSuffix(rest, ")"), "; ") {
				parts = append(parts, p.ChannelReason(why))
			}
			out += p.T("reply_reason.open") + strings.Join(parts, p.T("reply_reason.sep")) + p.T("reply_reason.close")
		}
		return out
	}
	for _, suffix := range []string{" is not configured for replies", " cannot carry replies"} {
		if ch, ok := strings.CutSuffix(reason, suffix); ok {
			return fmt.Sprintf(p.T("reply_reason."+strings.Fields(suffix)[1]), p.T(channels.Name(ch).Key()))
		}
	}
	return reason
}

// warningPatterns match the soft warnings the templates package words in
// English (templates.renderWarnings) to their texts in the catalog
// (warning.*, the English one being the warning with %s for each value).
var warningPatterns = func() map[string]*regexp.Regexp {
	out := map[string]*regexp.Regexp{}
	for _, key := range locales.Keys(locales.English) {
		if strings.HasPrefix(key, "warning.") {
			pattern := strings.ReplaceAll(regexp.QuoteMeta(locales.T(locales.English, key)), "%s", "(.+?)")
			out[key] = regexp.MustCompile("^" + pattern + "$")
		}
	}
	return out
}()

// Warning words a template warning in the page's language; one it does
// not know shows as made.
func (p *page) Warning(w string) string {
	for key, re := range warningPatterns {
		if m := re.FindStringSubmatch(w); m != nil {
			args := make([]any, len(m)-1)
			for i, v := range m[1:] {
				args[i] = v
			}
			return fmt.Sprintf(p.T(key), args...)
		}
	}
	return w
}
