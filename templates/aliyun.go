package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/handoverhq/handover"
)

// SMSType is the type an SMS template is filed under with Aliyun. Aliyun
// reviews each type against its own rules, and sends only the approved
// text: what Handover checks is that text with its variables filled in.
type SMSType string

// The Aliyun template types.
const (
	// SMSNotice is 通知短信: transfer, incident and service notices. No
	// marketing, no opt-out wording, contacts only fixed-line, 400 or 95
	// numbers (at most two), each variable once.
	SMSNotice SMSType = "notice"
	// SMSPromotional is 推广短信: sent only with the member's consent and
	// must carry opt-out wording.
	SMSPromotional SMSType = "promotional"
	// SMSCode is 验证码: must say 验证码/校验码/动态码; no contacts, no opt-out.
	SMSCode SMSType = "code"
)

// SMSTypes lists the Aliyun template types.
var SMSTypes = []SMSType{SMSNotice, SMSPromotional, SMSCode}

// Aliyun's limits on an approved template.
const (
	maxApproved = 500 // characters, variables as written included
	maxContacts = 2
)

var (
	placeholder = regexp.MustCompile(`\$\{([^{}]*)\}`)
	// Aliyun variable names: 1–25 characters, a letter first.
	aliyunVar    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,24}$`)
	reservedVars = []string{"email", "mobile", "id", "nick", "site"}
	// linkInText is a URL as written in an approved text: scheme, then
	// anything up to a space or a CJK character or punctuation.
	linkInText = regexp.MustCompile(`https?://[^\s\x{3000}-\x{303F}\x{4E00}-\x{9FFF}\x{FF00}-\x{FFEF}]+`)
	// Numbers a notice may give (fixed line with area code, 400/800, 95…)
	// and mobile numbers, which it may not.
	contactInText = regexp.MustCompile(`0\d{2,3}-\d{7,8}|[48]00-?\d{3}-?\d{4}|(?:^|\D)95\d{3,6}(?:\D|$)`)
	mobileInText  = regexp.MustCompile(`(?:^|\D)(?:\+?86[- ]?)?1[3-9]\d{9}(?:\D|$)`)
)

// Wording Aliyun refuses or requires, per type.
var (
	optOutWords    = []string{"退订", "回T", "回TD", "拒收", "opt out", "opt-out", "unsubscribe", "reply t", "reply stop"}
	marketingWords = []string{"优惠", "促销", "折扣", "特价", "秒杀", "领券", "优惠券", "红包", "抽奖", "免费领", "限时", "大促", "满减",
		"discount", "coupon", "promotion", "% off", "sale", "free gift", "lottery"}
	codeWords      = []string{"验证码", "校验码", "动态码", "verification code"}
	shortLinkHosts = []string{"t.cn", "dwz.cn", "url.cn", "suo.im", "3.cn", "s.tb.cn", "tb.cn", "bit.ly", "tinyurl.com", "goo.gl"}
)

// kindSMSTypes says which Aliyun types a kind may be filed as. Every
// message Handover sends about a transfer is a service notice; only a
// generic message may be promotional. Survey invitations are restricted
// content on Aliyun: only as a notice whose wording the operator files.
func kindSMSTypes(k Kind) []SMSType {
	if k == Generic {
		return []SMSType{SMSNotice, SMSPromotional}
	}
	return []SMSType{SMSNotice}
}

// approvedSeg is one piece of an approved text: fixed text, or a variable.
type approvedSeg struct {
	text string
	name string // the variable's name when this is ${name}
}

// parseApproved splits an approved text into fixed text and ${variables}.
func parseApproved(text string) []approvedSeg {
	var segs []approvedSeg
	last := 0
	for _, m := range placeholder.FindAllStringSubmatchIndex(text, -1) {
		if m[0] > last {
			segs = append(segs, approvedSeg{text: text[last:m[0]]})
		}
		segs = append(segs, approvedSeg{name: text[m[2]:m[3]]})
		last = m[1]
	}
	if last < len(text) {
		segs = append(segs, approvedSeg{text: text[last:]})
	}
	return segs
}

// fill writes the approved text with each variable replaced by its value.
func fill(segs []approvedSeg, values map[string]string) string {
	var b strings.Builder
	for _, s := range segs {
		if s.name != "" {
			b.WriteString(values[s.name])
		} else {
			b.WriteString(s.text)
		}
	}
	return b.String()
}

// fixedText is the approved text without its variables.
func fixedText(segs []approvedSeg) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteString(s.text)
		if s.name != "" {
			b.WriteString(" ")
		}
	}
	return b.String()
}

// checkApproved applies Aliyun's rules to an SMS version's approved text
// (v.Body) and params mapping: variable names and use, length, the rules
// of its type, and how the personal link is written.
func checkApproved(v *Version, add func(string, ...any)) {
	text, sms := v.Body, v.SMS
	if strings.Contains(text, "{{") {
		add("body: an SMS body is the approved text exactly as filed with Aliyun: write its variables as ${name} and fill them in sms.params, e.g. ${name} with {{.Customer.Name}}")
		return
	}
	if n := utf8.RuneCountInString(text); n > maxApproved {
		add("body: Aliyun accepts at most %d characters in a template, variables as written included (this one has %d)", maxApproved, n)
	}
	if strings.Count(text, "${") != len(placeholder.FindAllString(text, -1)) {
		add("body: every ${ must close as ${name}")
	}
	if !slices.Contains(SMSTypes, sms.Type) {
		add("sms.type must be the type the template is filed under with Aliyun: notice (通知短信), promotional (推广短信) or code (验证码)")
		return
	}
	if !slices.Contains(kindSMSTypes(v.Kind), sms.Type) {
		if v.Kind == Survey {
			add("sms.type: survey invitations are restricted SMS content on Aliyun: send surveys by WeChat or email, or file the wording as a notice (sms.type notice)")
		} else {
			add("sms.type: a %s is a notice to Aliyun (通知短信), not %s", v.Kind, sms.Type)
		}
		return
	}
	segs := parseApproved(text)
	uses := map[string]int{}
	for _, s := range segs {
		if s.name == "" {
			continue
		}
		uses[s.name]++
		if !aliyunVar.MatchString(s.name) || slices.Contains(reservedVars, strings.ToLower(s.name)) {
			add("body: ${%s}: Aliyun variable names are 1 to 25 letters, digits or _, a letter first, and not email, mobile, id, nick or site", handover.Clip(s.name, 40))
		} else if _, ok := sms.Params[s.name]; !ok {
			add("body: ${%s} has no entry in sms.params", s.name)
		}
	}
	for name := range sms.Params {
		if uses[name] == 0 {
			add("sms.params.%s is not a variable of the approved text", handover.Clip(name, 40))
		}
	}
	checkSMSType(sms.Type, fixedText(segs), uses, add)
	checkSMSLinks(segs, sms.Params, add)
}

// checkSMSType applies the rules of Aliyun's template type to the fixed
// text of an approved template.
func checkSMSType(t SMSType, fixed string, uses map[string]int, add func(string, ...any)) {
	lower := strings.ToLower(fixed)
	hasAny := func(words []string) string {
		for _, w := range words {
			if strings.Contains(lower, strings.ToLower(w)) {
				return w
			}
		}
		return ""
	}
	switch t {
	case SMSNotice, SMSCode:
		if w := hasAny(optOutWords); w != "" {
			add("body: Aliyun refuses opt-out wording (%q) in a %s template: remove it", w, t)
		}
	case SMSPromotional:
		if hasAny(optOutWords) == "" {
			add("body: a promotional SMS must carry opt-out wording, e.g. 拒收请回复R or 回T退订")
		}
	}
	if t == SMSNotice {
		if w := hasAny(marketingWords); w != "" {
			add("body: a notice must carry no marketing (%q)", w)
		}
		for name, n := range uses {
			if n > 1 {
				add("body: ${%s} is used %d times; Aliyun allows each variable once in a notice", name, n)
			}
		}
	}
	if t == SMSCode && hasAny(codeWords) == "" {
		add("body: a code template must say 验证码, 校验码 or 动态码")
	}
	contacts, mobiles := contactInText.FindAllString(fixed, -1), mobileInText.FindAllString(fixed, -1)
	if t == SMSCode && len(contacts)+len(mobiles) > 0 {
		add("body: a code template carries no contact number")
	}
	if len(contacts) > maxContacts {
		add("body: at most %d contact numbers in a template", maxContacts)
	}
	if len(mobiles) > 0 {
		add("body: a template may only give fixed-line, 400 or 95 numbers, not mobile numbers")
	}
}

// checkSMSLinks checks how the personal link is written: Aliyun wants the
// domain as fixed, filed text, so the link is a fixed https://host/l/
// followed by ${var} with var = {{.LinkToken}}. A variable host, a whole
// URL in a variable, or a short-link domain joined to a variable is
// refused at review.
func checkSMSLinks(segs []approvedSeg, params map[string]string, add func(string, ...any)) {
	for name, expr := range params {
		if strings.Contains(expr, ".Link") && !strings.Contains(expr, ".LinkToken") {
			add("sms.params.%s: Aliyun refuses a whole link in a variable: write the link's domain and path in the approved text, e.g. https://your.domain/l/${%s}, and fill ${%s} with {{.LinkToken}}", name, name, name)
		}
	}
	for i, s := range segs {
		if s.name == "" {
			continue
		}
		url := trailingURL(segs[:i])
		if strings.Contains(params[s.name], ".LinkToken") && url == "" {
			add("body: ${%s} carries the link token: it must follow the link's fixed https://domain/path/ in the approved text", s.name)
		}
		if url == "" {
			continue
		}
		host := strings.SplitN(strings.SplitN(url, "://", 2)[1], "/", 2)[0]
		switch {
		case !strings.Contains(url[len(strings.SplitN(url, "://", 2)[0])+3:], "/"):
			add("body: ${%s} is part of the link's host: Aliyun wants the domain as fixed text (no variable host)", s.name)
		case slices.Contains(shortLinkHosts, strings.ToLower(host)):
			add("body: %s is a short-link domain: Aliyun refuses a short link joined to a variable; use your own filed domain", host)
		}
	}
}

// trailingURL returns the URL the fixed text right before a variable ends
// with, if any ("" when the variable does not continue a URL).
func trailingURL(before []approvedSeg) string {
	if len(before) == 0 || before[len(before)-1].name != "" {
		return ""
	}
	text := before[len(before)-1].text
	m := linkInText.FindAllStringIndex(text, -1)
	if len(m) == 0 || m[len(m)-1][1] != len(text) {
		return ""
	}
	return text[m[len(m)-1][0]:]
}

// SMSLinkPrefix returns the fixed text the approved SMS text writes before
// its link token (e.g. "https://h.example.cn/l/"), or "" when it has none.
func SMSLinkPrefix(v *Version) string {
	segs := parseApproved(v.Body)
	for i, s := range segs {
		if s.name != "" && strings.Contains(v.SMS.Params[s.name], ".LinkToken") {
			return trailingURL(segs[:i])
		}
	}
	return ""
}

// FilingText is the text to file with Aliyun for an SMS version: the
// approved text as written, with its sign name.
func FilingText(v *Version) string {
	if v.SMS.SignName == "" {
		return v.Body
	}
	return fmt.Sprintf("【%s】%s", v.SMS.SignName, v.Body)
}
