package templates_test

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/templates"
)

func TestSMSSegments(t *testing.T) {
	sign := "转让通知" // 【转让通知】 is 6 characters
	tests := []struct {
		name        string
		sign, body  string
		chars, segs int
	}{
		{"empty", "", "", 0, 0},
		{"sign only counts", sign, "", 6, 1},
		{"70 incl. sign: one", sign, strings.Repeat("字", 64), 70, 1},
		{"71 incl. sign: two", sign, strings.Repeat("字", 65), 71, 2},
		{"134 incl. sign: two", sign, strings.Repeat("a", 128), 134, 2},
		{"135 incl. sign: three", sign, strings.Repeat("字", 129), 135, 3},
		{"201: three", "", strings.Repeat("x", 201), 201, 3},
		{"202: four", "", strings.Repeat("x", 202), 202, 4},
		{"emoji is one character", "", "👍", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chars, segs := templates.SMSSegments(tt.sign, tt.body)
			if chars != tt.chars || segs != tt.segs {
				t.Fatalf("SMSSegments = %d chars, %d segments; want %d, %d", chars, segs, tt.chars, tt.segs)
			}
		})
	}
}

// sms is an SMS version: body is the approved text, params fill it.
func sms(kind templates.Kind, typ templates.SMSType, body string, params map[string]string) *templates.Version {
	return &templates.Version{Kind: kind, Channel: channels.SMS, Locale: "zh-CN",
		Content: templates.Content{Body: body, SMS: templates.SMSMapping{SignName: "转让通知", Type: typ, TemplateCode: "SMS_1", Params: params}}}
}

// devbox is a devbox version: body is a template of ours.
func devbox(kind templates.Kind, body string) *templates.Version {
	return &templates.Version{Kind: kind, Channel: channels.Devbox, Locale: "zh-CN", Content: templates.Content{Body: body}}
}

var noticeParams = map[string]string{"name": "{{.Customer.Name}}", "buyer": "{{.Transfer.BuyerName}}",
	"contact": "{{.Transfer.BuyerContact}}", "code": "{{.LinkToken}}"}

const approvedNotice = "${name}：业务已转让给${buyer}，电话${contact}，详情https://h.example.cn/l/${code}"

func with(m map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(out, kv[i])
		} else {
			out[kv[i]] = kv[i+1]
		}
	}
	return out
}

func TestValidatePIPL(t *testing.T) {
	const notice = "{{.Customer.Name}}：业务已转让给{{.Transfer.BuyerName}}，电话{{.Transfer.BuyerContact}}，详情{{.Link}}"
	email := func(kind templates.Kind, body, html string) *templates.Version {
		return &templates.Version{Kind: kind, Channel: channels.Email, Locale: "en",
			Content: templates.Content{Subject: "Notice", Body: body, HTMLBody: html}}
	}
	tests := []validateCase{
		{"transfer notice complete", devbox(templates.TransferNotice, notice), ""},
		{"notice without buyer", devbox(templates.TransferNotice, "业务已转让，电话{{.Transfer.BuyerContact}}，{{.Link}}"), "must name the new owner"},
		{"notice without contact", devbox(templates.TransferNotice, "已转让给{{.Transfer.BuyerName}}，{{.Link}}"), "how to reach the new owner"},
		{"notice without link", devbox(templates.TransferNotice, "已转让给{{.Transfer.BuyerName}}{{.Transfer.BuyerContact}}"), "link to the full notice"},
		{"sign in body", devbox(templates.Generic, "【某公司】你好"), "must not start with a sign name"},
		{"consent without purposes", devbox(templates.ConsentRequest, "请授权{{.Link}}"), "must name the purposes"},
		{"with sets dot", devbox(templates.Generic, "{{with .Customer}}{{.Name}}{{end}}"), ""},
		{"consent with purposes", devbox(templates.ConsentRequest, "用于{{.Transfer.Purposes}}，请授权{{.Link}}"), ""},
		{"email html must also comply", email(templates.ConsentRequest, "{{.Transfer.Purposes}} {{.Link}}", "<a href='{{.Link}}'>go</a>"), "html_body: a consent request must name the purposes"},
		{"email needs subject", &templates.Version{Kind: templates.Generic, Channel: channels.Email, Locale: "en", Content: templates.Content{Body: "hi"}}, "subject is required"},
		{"subject only for email", &templates.Version{Kind: templates.Generic, Channel: channels.Devbox, Locale: "en", Content: templates.Content{Subject: "x", Body: "hi {{.OptOut}}"}}, "for email only"},
		{"wechat fields checked", &templates.Version{Kind: templates.TransferNotice, Channel: channels.WeChat, Locale: "zh-CN",
			Content: templates.Content{Body: notice, WeChat: templates.WeChatMapping{TemplateID: "t", Fields: map[string]string{"first": "{{.Customer.Name}}"}}}}, "wechat.fields: a transfer notice must name the new owner"},
		{"wechat fields need no link: the url is the link", &templates.Version{Kind: templates.TransferNotice, Channel: channels.WeChat, Locale: "zh-CN",
			Content: templates.Content{Body: notice, WeChat: templates.WeChatMapping{TemplateID: "t", Fields: map[string]string{
				"keyword1": "{{.Transfer.BuyerName}}", "keyword2": "{{.Transfer.BuyerContact}}"}}}}, ""},
		{"bad kind", &templates.Version{Kind: "spam", Channel: channels.SMS, Locale: "zh-CN", Content: templates.Content{Body: "x"}}, "kind must be one of"},
		{"range refused", devbox(templates.Generic, "{{range 10}}x{{end}}"), "{{range}} is not supported"},
		{"define refused", devbox(templates.Generic, `{{define "x"}}y{{end}}`), "not supported"},
	}
	runValidateCases(t, tests)
}

// TestValidateAliyunRules checks an SMS as Aliyun reviews it: the approved
// text with its type's rules, its variables and its link.
func TestValidateAliyunRules(t *testing.T) {
	gen := map[string]string{"name": "{{.Customer.Name}}", "code": "{{.LinkToken}}"}
	tests := []validateCase{
		{"notice as filed", sms(templates.TransferNotice, templates.SMSNotice, approvedNotice, noticeParams), ""},
		{"notice refuses opt-out wording", sms(templates.TransferNotice, templates.SMSNotice, approvedNotice+" 回T退订", noticeParams), "refuses opt-out wording"},
		{"incident notice refuses opt-out wording", sms(templates.IncidentNotice, templates.SMSNotice, "${name}：安全事件详情https://h.example.cn/l/${code} 拒收请回复R", gen), "refuses opt-out wording"},
		{"notice refuses marketing", sms(templates.Generic, templates.SMSNotice, "${name}：限时优惠https://h.example.cn/l/${code}", gen), "no marketing"},
		{"notice refuses a mobile number", sms(templates.Generic, templates.SMSNotice, "${name}：请致电13812345678，https://h.example.cn/l/${code}", gen), "not mobile numbers"},
		{"notice takes a 400 number", sms(templates.Generic, templates.SMSNotice, "${name}：请致电400-800-1234，https://h.example.cn/l/${code}", gen), ""},
		{"notice takes a fixed line", sms(templates.Generic, templates.SMSNotice, "${name}：请致电021-12345678，https://h.example.cn/l/${code}", gen), ""},
		{"at most two contacts", sms(templates.Generic, templates.SMSNotice, "${name}：021-12345678、021-12345679、95555，https://h.example.cn/l/${code}", gen), "at most 2 contact numbers"},
		{"a date is no phone number", sms(templates.Generic, templates.SMSNotice, "${name}：2025-07-01起，https://h.example.cn/l/${code}", gen), ""},
		{"each variable once in a notice", sms(templates.Generic, templates.SMSNotice, "${name}${name}：https://h.example.cn/l/${code}", gen), "used 2 times"},
		{"promotional needs opt-out", sms(templates.Generic, templates.SMSPromotional, "${name}：新品上市https://h.example.cn/l/${code}", gen), "must carry opt-out wording"},
		{"promotional with opt-out", sms(templates.Generic, templates.SMSPromotional, "${name}：新品上市https://h.example.cn/l/${code} 拒收请回复R", gen), ""},
		{"transfer notice is no promotion", sms(templates.TransferNotice, templates.SMSPromotional, approvedNotice+" 回T退订", noticeParams), "is a notice to Aliyun"},
		{"survey only as a notice", sms(templates.Survey, templates.SMSPromotional, "${name}：请评价https://h.example.cn/l/${code} 回T退订", gen), "survey invitations are restricted"},
		{"type required", sms(templates.Generic, "", approvedNotice, noticeParams), "sms.type must be"},
		{"code type needs the word", sms(templates.Generic, templates.SMSCode, "${name}：https://h.example.cn/l/${code}", gen), "is a notice to Aliyun"},
		{"our template syntax refused", sms(templates.Generic, templates.SMSNotice, "{{.Customer.Name}}：{{.Link}}", nil), "approved text exactly as filed"},
		{"variable without param", sms(templates.TransferNotice, templates.SMSNotice, approvedNotice, with(noticeParams, "buyer", "")), "${buyer} has no entry"},
		{"param not in text", sms(templates.TransferNotice, templates.SMSNotice, approvedNotice, with(noticeParams, "extra", "{{.Customer.Company}}")), "sms.params.extra is not a variable"},
		{"reserved variable name", sms(templates.Generic, templates.SMSNotice, "${mobile}：https://h.example.cn/l/${code}", with(gen, "mobile", "x")), "not email, mobile, id, nick or site"},
		{"variable name too long", sms(templates.Generic, templates.SMSNotice, "${"+strings.Repeat("a", 26)+"}：https://h.example.cn/l/${code}", with(gen, strings.Repeat("a", 26), "x")), "1 to 25 letters"},
		{"500 characters at most", sms(templates.Generic, templates.SMSNotice, strings.Repeat("长", 480)+"https://h.example.cn/l/${code}", with(gen, "name", "")), "at most 500 characters"},
		{"unclosed variable", sms(templates.Generic, templates.SMSNotice, "${name：https://h.example.cn/l/${code}", gen), "must close"},
		{"buyer missing from the filled text", sms(templates.TransferNotice, templates.SMSNotice, "${name}：电话${contact}，https://h.example.cn/l/${code}",
			with(noticeParams, "buyer", "")), "must name the new owner"},
		{"link missing", sms(templates.TransferNotice, templates.SMSNotice, "${name}：${buyer}，电话${contact}", with(noticeParams, "code", "")), "link to the full notice"},
		{"whole link in a variable", sms(templates.TransferNotice, templates.SMSNotice, "${name}：${buyer}，电话${contact}，${url}", with(noticeParams, "code", "", "url", "{{.Link}}")), "refuses a whole link in a variable"},
		{"variable host", sms(templates.Generic, templates.SMSNotice, "${name}：https://www.${site2}.cn/l/${code}", with(gen, "site2", "{{.Customer.Company}}")), "no variable host"},
		{"token without a fixed domain", sms(templates.Generic, templates.SMSNotice, "${name}：详情 ${code}", gen), "must follow the link's fixed"},
		{"short link joined to a variable", sms(templates.Generic, templates.SMSNotice, "${name}：https://t.cn/${code}", gen), "short-link domain"},
	}
	runValidateCases(t, tests)
}

// validateCase is a version and what Validate says of it: "" for valid,
// else a part of the error message.
type validateCase struct {
	name string
	v    *templates.Version
	want string
}

func runValidateCases(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := templates.Validate(tt.v)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if handover.ErrorCode(err) != handover.EINVALID || !strings.Contains(handover.ErrorMessage(err), tt.want) {
				t.Fatalf("Validate = %v; want EINVALID containing %q", err, tt.want)
			}
		})
	}
}

// TestSMSRendersTheApprovedText renders what the phone shows: the sign,
// the approved text with the params filled in, and the working link.
func TestSMSRendersTheApprovedText(t *testing.T) {
	v := sms(templates.TransferNotice, templates.SMSNotice, approvedNotice, noticeParams)
	s := templates.NewStore(nil, nil, nil)
	data := templates.SampleData("zh-CN")
	data.Link, data.LinkToken = "https://h.example.cn/l/Tok3n", "Tok3n"
	r, err := s.Render(t.Context(), *v, data)
	if err != nil {
		t.Fatal(err)
	}
	want := "【转让通知】张三：业务已转让给江南商贸集团，电话400-800-1234，详情https://h.example.cn/l/Tok3n"
	if r.Text != want || r.Provider.Params["code"] != "Tok3n" || r.Provider.TemplateCode != "SMS_1" {
		t.Fatalf("rendered %q params %v; want %q", r.Text, r.Provider.Params, want)
	}
	tmpl := &templates.Template{Name: "n", Kind: v.Kind, Channel: channels.SMS, Locale: v.Locale, Content: v.Content}
	if p := tmpl.Unsendable("https://h.example.cn"); p != "" {
		t.Fatalf("sendable template refused: %s", p)
	}
	if p := tmpl.Unsendable("https://other.example.cn"); !strings.Contains(p, "links to https://h.example.cn/l/") {
		t.Fatalf("link on another server: %q", p)
	}
	tmpl.SMS.TemplateCode = ""
	if p := tmpl.Unsendable("https://h.example.cn"); !strings.Contains(p, "has no Aliyun template code") {
		t.Fatalf("no code: %q", p)
	}
	wx := &templates.Template{Name: "w", Kind: templates.Generic, Channel: channels.WeChat, Locale: "en", Content: templates.Content{Body: "hi"}}
	if p := wx.Unsendable(""); !strings.Contains(p, "has no WeChat template id") {
		t.Fatalf("no template id: %q", p)
	}
}

func TestValidateNamesUnknownVariableAndLine(t *testing.T) {
	tests := []struct {
		body string
		want []string
	}{
		{"第一行\n{{.Customer.Nmae}} 回T退订", []string{"body line 2", ".Customer.Nmae", "unknown variable"}},
		{"{{$.Transfer.Price}} 回T退订", []string{"body line 1", ".Transfer.Price"}},
		{"{{with .Transfer}}{{.Buyer}}{{end}} 回T退订", []string{"body line 1", ".Transfer.Buyer"}},
		{"{{if .Link}}{{.Phone}}{{end}} 回T退订", []string{".Phone"}},
		{"{{.Customer.Name | printf \"%s\" | nosuchfunc}} 回T退订", []string{"body line 1", "nosuchfunc"}},
		{"{{.Customer.Name 回T退订", []string{"body line 1"}},
		{"{{.Customer}} 回T退订", []string{"unknown variable .Customer "}},
	}
	for _, tt := range tests {
		_, err := templates.Validate(devbox(templates.Generic, tt.body))
		if handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("%q: got %v, want EINVALID", tt.body, err)
		}
		for _, w := range tt.want {
			if !strings.Contains(handover.ErrorMessage(err), w) {
				t.Errorf("%q: message %q does not name %q", tt.body, handover.ErrorMessage(err), w)
			}
		}
	}
}

func TestValidateWarnsOnLongSMS(t *testing.T) {
	w, err := templates.Validate(sms(templates.Generic, templates.SMSNotice, strings.Repeat("长", 80)+"https://h.example.cn/l/${code}",
		map[string]string{"code": "{{.LinkToken}}"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !strings.Contains(w[0], "segments") {
		t.Fatalf("warnings = %q; want one about segments", w)
	}
}

func TestDefaultsPassTheirOwnChecks(t *testing.T) {
	defaults, err := templates.Defaults("https://h.example.cn")
	if err != nil {
		t.Fatal(err)
	}
	if want := len(templates.Kinds) * len(templates.Channels) * len(templates.Locales); len(defaults) != want {
		t.Fatalf("%d defaults; want %d (every kind × channel × locale)", len(defaults), want)
	}
	for _, d := range defaults {
		v := d.Latest()
		if _, err := templates.Validate(&v); err != nil {
			t.Errorf("%s: %v", d.DefaultKey, err)
		}
		switch d.Channel {
		case channels.SMS:
			// The description says the exact text to file with Aliyun, and
			// that text carries the personal link.
			if !strings.Contains(d.Description, d.Body) || templates.SMSLinkPrefix(&v) != "https://h.example.cn/l/" || d.SMS.Type != templates.SMSNotice {
				t.Errorf("%s: description %q, link %q", d.DefaultKey, d.Description, templates.SMSLinkPrefix(&v))
			}
		case channels.WeChat:
			if d.Description == "" {
				t.Errorf("%s: no description", d.DefaultKey)
			}
		}
	}
}

// TestUnsendableOldSMS: an SMS template stored in our own template syntax
// (before SMS templates held the approved text) cannot be sent.
func TestUnsendableOldSMS(t *testing.T) {
	old := &templates.Template{Name: "旧", Kind: templates.Generic, Channel: channels.SMS, Locale: "zh-CN",
		Content: templates.Content{Body: "{{.Customer.Name}}您好 {{.Link}} 回T退订", SMS: templates.SMSMapping{TemplateCode: "SMS_1"}}}
	if p := old.Unsendable(""); !strings.Contains(p, "approved text exactly as filed") {
		t.Fatalf("old SMS template: %q", p)
	}
}
