package templates

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// FuzzRender feeds arbitrary bodies through the save-time check and, when
// accepted, renders them: a body is either refused with an EINVALID error
// or renders; nothing panics, hangs or returns an internal error.
func FuzzRender(f *testing.F) {
	for _, seed := range []string{
		"尊敬的{{.Customer.Name}}：{{.Link}} 回T退订",
		"{{.Customer.Nope}}", "{{range 1000000000}}x{{end}}", `{{printf "%01000000d" 1}}{{printf "%01000000d" 1}}`,
		`{{define "a"}}{{template "a"}}{{end}}{{template "a"}}`, "{{with .Transfer}}{{.BuyerName}}{{end}}{{.OptOut}}",
		"{{index .Link 99}} 回T退订", "{{slice .Link 5 2}}", "{{.}}", "{{$}}", "{{$x := .Link}}{{$x}}", "{{/* c */}}",
		"{{or .Customer.Company \"贵司\"}} 回T退订", "{{(.Customer).Name}} 回T退订", "{{if}}", "{{end}}", "\x00{{",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, body string, email bool) {
		v := &Version{TemplateID: "f", Number: 1, Kind: Generic, Channel: channels.SMS, Locale: "zh-CN",
			Content: Content{Body: body, SMS: SMSMapping{SignName: "转让通知", Params: map[string]string{"p": body}}}}
		if email {
			v.Channel, v.Locale, v.SMS = channels.Email, "en", SMSMapping{}
			v.Subject, v.HTMLBody = "s", body
		}
		if _, err := Validate(v); err != nil {
			if handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("Validate(%q) = %v; want EINVALID or nil", body, err)
			}
			return
		}
		c, err := compile(v)
		if err != nil {
			t.Fatalf("accepted body does not compile: %v", err)
		}
		for _, d := range []Data{SampleData("zh-CN"), {}} {
			if _, err := c.render(&d); err != nil && handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("render(%q) = %v; want EINVALID or nil", body, err)
			}
		}
	})
}

// FuzzApprovedSMS feeds arbitrary approved texts (outside input: staff
// paste them from Aliyun's console) through the Aliyun checks and, when
// accepted, renders them: refused with EINVALID or rendered, never a panic.
func FuzzApprovedSMS(f *testing.F) {
	for _, seed := range []string{
		"尊敬的${name}：详情https://h.example.cn/l/${code}", "${", "${}", "${${name}}", "https://${name}/l/${code}",
		"${code}", "https://t.cn/${code}", "回T退订${name}https://h.example.cn/l/${code}", "${name}${name}${code}",
		"021-12345678 13812345678 https://h.example.cn/l/${code}", "https://h.example.cn${code}", "\x00${name}",
	} {
		f.Add(seed, "notice")
		f.Add(seed, "promotional")
	}
	f.Fuzz(func(t *testing.T, text, typ string) {
		v := &Version{TemplateID: "f", Number: 1, Kind: Generic, Channel: channels.SMS, Locale: "zh-CN",
			Content: Content{Body: text, SMS: SMSMapping{Type: SMSType(typ), TemplateCode: "SMS_1",
				Params: map[string]string{"name": "{{.Customer.Name}}", "code": "{{.LinkToken}}"}}}}
		if _, err := Validate(v); err != nil {
			if handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("Validate(%q) = %v; want EINVALID or nil", text, err)
			}
			return
		}
		c, err := compile(v)
		if err != nil {
			t.Fatalf("accepted text does not compile: %v", err)
		}
		d := SampleData("zh-CN")
		r, err := c.render(&d)
		if err != nil {
			t.Fatalf("render(%q) = %v", text, err)
		}
		if !strings.Contains(r.Text, d.LinkToken) {
			t.Fatalf("accepted text %q renders without the link token: %q", text, r.Text)
		}
	})
}
