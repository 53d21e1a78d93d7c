package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// Limits on what a template may hold.
const (
	maxName     = 200
	maxSubject  = 200
	maxBody     = 10000   // runes
	maxHTML     = 100_000 // bytes
	maxParams   = 30
	maxParamLen = 35 // runes; Aliyun refuses longer variable values
)

// SMS length as Chinese carriers bill it: up to 70 characters is one
// message; a longer one is split into parts of 67.
const (
	smsSingle = 70
	smsPart   = 67
)

// SMSSegments counts an SMS as Chinese carriers do: characters (not bytes;
// a Chinese character, a letter and a space each count one) including the
// sign name in 【】, and the segments billed: 1 up to 70 characters, else
// one per 67.
func SMSSegments(signName, body string) (chars, segments int) {
	chars = utf8.RuneCountInString(body)
	if signName != "" {
		chars += utf8.RuneCountInString(signName) + 2
	}
	switch {
	case chars == 0:
		return 0, 0
	case chars <= smsSingle:
		return chars, 1
	}
	return chars, (chars + smsPart - 1) / smsPart
}

var paramName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]{0,63}$`)

// Validate checks a version before it is saved: its fields, its syntax and
// variables (it is rendered against the sample data, so an unknown variable
// or a broken expression fails here, not at send time) and the PIPL rules
// for its kind and channel. Violations are one EINVALID error listing them;
// soft issues come back as warnings.
func Validate(v *Version) (warnings []string, err error) {
	var problems []*handover.Error
	add := func(format string, args ...any) {
		problems = append(problems, handover.Errorf(handover.EINVALID, format, args...))
	}
	if !slices.Contains(Kinds, v.Kind) {
		add("kind must be one of %s", joinKinds())
	}
	if !slices.Contains(Channels, v.Channel) {
		add("channel must be one of wechat, sms, email, devbox")
	}
	if !slices.Contains(Locales, v.Locale) {
		add("locale must be zh-CN or en")
	}
	checkFields(v, add)
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	c, err := compile(v)
	if err != nil {
		return nil, err
	}
	checkPIPL(c, add)
	if len(problems) > 0 {
		return nil, invalid(problems)
	}
	sample := SampleData(v.Locale)
	r, err := c.render(&sample)
	if err != nil {
		return nil, err
	}
	return renderWarnings(v, r), nil
}

// CheckError is a version refused by its checks: one EINVALID error
// whose message lists every problem (for the API and logs), and the
// problems one by one, each with its own catalog key, for pages that show
// them in the reader's language.
type CheckError struct {
	Problems []*handover.Error
	err      *handover.Error
}

func (e *CheckError) Error() string { return e.err.Error() }

// Unwrap gives the listing error, so handover.ErrorCode and ErrorMessage
// see EINVALID and the joined message.
func (e *CheckError) Unwrap() error { return e.err }

func invalid(problems []*handover.Error) error {
	texts := make([]string, len(problems))
	for i, p := range problems {
		texts[i] = p.Message
	}
	return &CheckError{Problems: problems, err: handover.Errorf(handover.EINVALID, "%s", strings.Join(texts, "; "))}
}

func joinKinds() string {
	s := make([]string, len(Kinds))
	for i, k := range Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// checkFields checks lengths and which fields the channel allows.
func checkFields(v *Version, add func(string, ...any)) {
	if strings.TrimSpace(v.Body) == "" {
		add("body is required")
	} else if utf8.RuneCountInString(v.Body) > maxBody {
		add("body must be at most %d characters", maxBody)
	}
	if len(v.HTMLBody) > maxHTML {
		add("html_body must be at most %d bytes", maxHTML)
	}
	if v.Channel == channels.Email {
		if strings.TrimSpace(v.Subject) == "" {
			add("subject is required for email")
		} else if utf8.RuneCountInString(v.Subject) > maxSubject || strings.ContainsAny(v.Subject, "\r\n") {
			add("subject must be one line of at most %d characters", maxSubject)
		}
	} else if v.Subject != "" || v.HTMLBody != "" {
		add("subject and html_body are for email only")
	}
	sms, wechat := v.SMS, v.WeChat
	switch v.Channel {
	case channels.SMS, channels.Devbox:
		if sms.SignName != "" && (utf8.RuneCountInString(sms.SignName) < 2 || utf8.RuneCountInString(sms.SignName) > 12 || strings.ContainsAny(sms.SignName, "【】[]")) {
			add("sms.sign_name must be 2 to 12 characters without brackets (【】 are added)")
		}
		if strings.HasPrefix(strings.TrimSpace(v.Body), "【") {
			add("body must not start with a sign name in 【】: it is added from sms.sign_name")
		}
		if wechat.TemplateID != "" || len(wechat.Fields) > 0 || wechat.Subscribe {
			add("wechat settings are for the wechat channel only")
		}
		if v.Channel == channels.SMS {
			checkApproved(v, add)
		} else if sms.Type != "" || sms.TemplateCode != "" {
			add("sms.type and sms.template_code are for the sms channel only")
		}
		checkMapping("sms.params", sms.Params, add)
	case channels.WeChat:
		if sms.SignName != "" || sms.Type != "" || sms.TemplateCode != "" || len(sms.Params) > 0 {
			add("sms settings are for the sms channel only")
		}
		checkMapping("wechat.fields", wechat.Fields, add)
	default:
		if sms.SignName != "" || sms.Type != "" || sms.TemplateCode != "" || len(sms.Params) > 0 || wechat.TemplateID != "" || len(wechat.Fields) > 0 {
			add("sms and wechat settings are for those channels only")
		}
	}
	if utf8.RuneCountInString(v.Description) > maxBody {
		add("description must be at most %d characters", maxBody)
	}
}

func checkMapping(name string, m map[string]string, add func(string, ...any)) {
	if len(m) > maxParams {
		add("%s may have at most %d entries", name, maxParams)
	}
	for k, expr := range m {
		if !paramName.MatchString(k) {
			add("%s: %q is not a valid name (letters, digits, _ and .)", name, handover.Clip(k, 40))
		}
		if strings.TrimSpace(expr) == "" || utf8.RuneCountInString(expr) > 500 {
			add("%s.%s must be an expression of 1 to 500 characters", name, handover.Clip(k, 40))
		}
	}
}

// checkPIPL applies the rules each customer-facing part must meet: a
// transfer notice names the buyer and their contact and links to the full
// notice (PIPL Art. 22), a consent request names the purposes (Art. 14).
// An SMS is checked as Aliyun sends it: the approved text with its params
// filled in. WeChat fields, when set, are what the customer sees, so they
// are checked like a body; the message's url carries the link.
func checkPIPL(c *compiled, add func(string, ...any)) {
	parts := []*part{c.body}
	if c.html != nil {
		parts = append(parts, c.html)
	}
	if c.v.Channel == channels.WeChat && len(c.params) > 0 {
		parts = append(parts, &part{name: "wechat.fields", refs: allRefs(c.params)})
	}
	for _, p := range parts {
		switch c.v.Kind {
		case TransferNotice:
			if !refers(p, ".Transfer.BuyerName") {
				add("%s: a transfer notice must name the new owner (PIPL Art. 22): add {{.Transfer.BuyerName}}", p.name)
			}
			if !refers(p, ".Transfer.BuyerContact") {
				add("%s: a transfer notice must say how to reach the new owner (PIPL Art. 22): add {{.Transfer.BuyerContact}}", p.name)
			}
			needLink(c, p, add, "a transfer notice must link to the full notice")
		case ConsentRequest:
			if !refers(p, ".Transfer.Purposes") {
				add("%s: a consent request must name the purposes (PIPL Art. 14): add {{.Transfer.Purposes}}", p.name)
			}
			needLink(c, p, add, "a consent request must link to where the customer decides")
		case IncidentNotice:
			needLink(c, p, add, "an incident notice must link to the incident page (PIPL Art. 57)")
		}
	}
}

// needLink checks that p carries the personal link: {{.Link}}, or in an
// approved SMS text the link token after the link's fixed domain. WeChat
// fields need none: the message's url is the link. The reason is part of
// the problem's format, so each problem has one text to translate.
func needLink(c *compiled, p *part, add func(string, ...any), why string) {
	switch {
	case p.name == "wechat.fields":
	case c.approved != nil:
		if SMSLinkPrefix(&c.v) == "" {
			add("%s: "+why+": write the link as https://your.domain/l/${code} and fill ${code} with {{.LinkToken}}", p.name)
		}
	case !refers(p, ".Link"):
		add("%s: "+why+": add {{.Link}}", p.name)
	}
}

func refers(p *part, path string) bool {
	for _, r := range p.refs {
		if r.path == path {
			return true
		}
	}
	return false
}

func allRefs(parts []*part) []ref {
	var out []ref
	for _, p := range parts {
		out = append(out, p.refs...)
	}
	return out
}

// renderWarnings are the soft issues of a rendered message.
func renderWarnings(v *Version, r *Rendered) []string {
	var w []string
	if v.Channel == channels.SMS || v.Channel == channels.Devbox {
		chars, segs := SMSSegments("", r.Text)
		if segs > 1 {
			w = append(w, fmt.Sprintf("the SMS is %d characters including the sign name: %d segments, each billed (one segment is up to %d)", chars, segs, smsSingle))
		}
	}
	switch v.Channel {
	case channels.SMS:
		if v.SMS.TemplateCode == "" {
			w = append(w, "sms.template_code is empty: file the approved text with Aliyun and set its code; until then campaigns using this template are refused")
		}
		for k, val := range r.Provider.Params {
			if utf8.RuneCountInString(val) > maxParamLen {
				w = append(w, fmt.Sprintf("sms.params.%s renders to more than %d characters, which Aliyun may refuse", k, maxParamLen))
			}
		}
	case channels.WeChat:
		if v.WeChat.TemplateID == "" {
			w = append(w, "wechat.template_id is empty: campaigns using this template are refused until the template id from the official account is set")
		}
	}
	slices.Sort(w)
	return w
}
