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

func sms(kind templates.Kind, body string) *templates.Version {
	return &templates.Version{Kind: kind, Channel: channels.SMS, Locale: "zh-CN",
		Content: templates.Content{Body: body, SMS: templates.SMSMapping{SignName: "转让通知", TemplateCode: "SMS_1"}}}
}

func TestValidatePIPL(t *testing.T) {
	const notice = "{{.Customer.Name}}：业务已转让给{{.Transfer.BuyerName}}，电话{{.Transfer.BuyerContact}}，详情{{.Link}} 回T退订"
	email := func(kind templates.Kind, body, html string) *templates.Version {
		return &templates.Version{Kind: kind, Channel: channels.Email, Locale: "en",
			Content: templates.Content{Subject: "Notice", Body: body, HTMLBody: html}}
	}
	tests := []struct {
		name string
		v    *templates.Version
		want string // "" for valid; else a part of the error message
	}{
		{"transfer notice complete", sms(templates.TransferNotice, notice), ""},
		{"opt-out through variable", sms(templates.TransferNotice, strings.Replace(notice, "回T退订", "{{.OptOut}}", 1)), ""},
		{"notice without buyer", sms(templates.TransferNotice, "业务已转让，电话{{.Transfer.BuyerContact}}，{{.Link}} 回T退订"), "must name the new owner"},
		{"notice without contact", sms(templates.TransferNotice, "已转让给{{.Transfer.BuyerName}}，{{.Link}} 回T退订"), "how to reach the new owner"},
		{"notice without link", sms(templates.TransferNotice, "已转让给{{.Transfer.BuyerName}}{{.Transfer.BuyerContact}} 回T退订"), "link to the full notice"},
		{"sms without opt-out", sms(templates.Generic, "您好{{.Link}}"), "opt-out hint"},
		{"sms without sign", &templates.Version{Kind: templates.Generic, Channel: channels.SMS, Locale: "zh-CN", Content: templates.Content{Body: "回T退订"}}, "sign_name is required"},
		{"sign in body", sms(templates.Generic, "【某公司】你好 回T退订"), "must not start with a sign name"},
		{"consent without purposes", sms(templates.ConsentRequest, "请授权{{.Link}} 回T退订"), "must name the purposes"},
		{"with sets dot", sms(templates.Generic, "{{with .Customer}}{{.Name}}{{end}} 回T退订"), ""},
		{"consent with purposes", sms(templates.ConsentRequest, "用于{{.Transfer.Purposes}}，请授权{{.Link}} 回T退订"), ""},
		{"email html must also comply", email(templates.ConsentRequest, "{{.Transfer.Purposes}} {{.Link}}", "<a href='{{.Link}}'>go</a>"), "html_body: a consent request must name the purposes"},
		{"email needs subject", &templates.Version{Kind: templates.Generic, Channel: channels.Email, Locale: "en", Content: templates.Content{Body: "hi"}}, "subject is required"},
		{"subject only for email", &templates.Version{Kind: templates.Generic, Channel: channels.Devbox, Locale: "en", Content: templates.Content{Subject: "x", Body: "hi {{.OptOut}}"}}, "for email only"},
		{"wechat fields checked", &templates.Version{Kind: templates.TransferNotice, Channel: channels.WeChat, Locale: "zh-CN",
			Content: templates.Content{Body: notice, WeChat: templates.WeChatMapping{TemplateID: "t", Fields: map[string]string{"first": "{{.Link}}"}}}}, "wechat.fields: a transfer notice must name the new owner"},
		{"bad kind", &templates.Version{Kind: "spam", Channel: channels.SMS, Locale: "zh-CN", Content: templates.Content{Body: "x"}}, "kind must be one of"},
		{"range refused", sms(templates.Generic, "{{range 10}}x{{end}} 回T退订"), "{{range}} is not supported"},
		{"define refused", sms(templates.Generic, `{{define "x"}}y{{end}}回T退订`), "not supported"},
	}
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
		_, err := templates.Validate(sms(templates.Generic, tt.body))
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
	w, err := templates.Validate(sms(templates.Generic, strings.Repeat("长", 80)+"{{.Link}} 回T退订"))
	if err != nil {
		t.Fatal(err)
	}
	if len(w) != 1 || !strings.Contains(w[0], "segments") {
		t.Fatalf("warnings = %q; want one about segments", w)
	}
}

func TestDefaultsPassTheirOwnChecks(t *testing.T) {
	defaults, err := templates.Defaults()
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
	}
}
