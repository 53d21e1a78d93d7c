package templates

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/oklog/ulid/v2"
	"gopkg.in/yaml.v3"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

//go:embed defaults/*.yaml
var defaultFiles embed.FS

// defaultFile is one defaults/KIND.LOCALE.yaml: a kind's messages in one
// locale, per channel. The devbox template uses the SMS text.
type defaultFile struct {
	Name string `yaml:"name"`
	// SMS is the text to file with Aliyun: {portal} stands for the
	// server's public URL, written into the text at install.
	SMS struct {
		Type   SMSType           `yaml:"type"`
		Text   string            `yaml:"text"`
		Params map[string]string `yaml:"params"`
	} `yaml:"sms"`
	WeChat struct {
		Body   string            `yaml:"body"`
		Fields map[string]string `yaml:"fields"`
	} `yaml:"wechat"`
	Email struct {
		Subject string `yaml:"subject"`
		Body    string `yaml:"body"`
		HTML    string `yaml:"html"`
	} `yaml:"email"`
}

var channelLabels = map[channels.Name]string{channels.SMS: "SMS", channels.WeChat: "WeChat", channels.Email: "Email", channels.Devbox: "Devbox"}

// Defaults returns the shipped default templates, one per kind, channel
// and locale, in a stable order, their SMS links on portalURL (the
// server's HANDOVER_PUBLIC_URL). Their DefaultKey is "kind/channel/locale".
// The SMS and WeChat defaults carry no template code or id: their
// descriptions say what to file with the provider.
func Defaults(portalURL string) ([]*Template, error) {
	names, err := fs.Glob(defaultFiles, "defaults/*.yaml")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []*Template
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".yaml")
		kind, locale, ok := strings.Cut(base, ".")
		if !ok {
			return nil, fmt.Errorf("default template %s: name must be KIND.LOCALE.yaml", name)
		}
		b, err := defaultFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var f defaultFile
		if err := yaml.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("default template %s: %w", name, err)
		}
		text := strings.ReplaceAll(strings.TrimSpace(f.SMS.Text), "{portal}", portalURL)
		sms := Content{Body: text, SMS: SMSMapping{Type: f.SMS.Type, Params: f.SMS.Params}}
		sms.Description = smsFiling(locale, &sms)
		wechat := Content{Body: strings.TrimSpace(f.WeChat.Body), WeChat: WeChatMapping{Fields: f.WeChat.Fields}}
		wechat.Description = wechatFiling(locale, f.WeChat.Fields)
		contents := map[channels.Name]Content{
			channels.SMS:    sms,
			channels.Devbox: {Body: devboxBody(portalURL, &sms)},
			channels.WeChat: wechat,
			channels.Email:  {Subject: f.Email.Subject, Body: f.Email.Body, HTMLBody: f.Email.HTML},
		}
		for _, ch := range Channels {
			out = append(out, &Template{Name: f.Name + " (" + channelLabels[ch] + ")", Kind: Kind(kind), Channel: ch,
				Locale: locale, Content: contents[ch], DefaultKey: kind + "/" + string(ch) + "/" + locale})
		}
	}
	return out, nil
}

// devboxBody is the SMS text as the phone shows it, written as a template
// of ours: the devbox records what the SMS would have said.
func devboxBody(portalURL string, sms *Content) string {
	body := sms.Body
	for name, expr := range sms.SMS.Params {
		if expr == "{{.LinkToken}}" {
			body = strings.ReplaceAll(body, portalURL+"/l/${"+name+"}", "{{.Link}}")
		}
		body = strings.ReplaceAll(body, "${"+name+"}", expr)
	}
	return body
}

// smsFiling is a default SMS template's description: the exact text to
// file with Aliyun, and what to do with the code Aliyun gives back.
func smsFiling(locale string, c *Content) string {
	names := make([]string, 0, len(c.SMS.Params))
	for name := range c.SMS.Params {
		names = append(names, name)
	}
	sort.Strings(names)
	vars := make([]string, len(names))
	for i, name := range names {
		vars[i] = name + " = " + c.SMS.Params[name]
	}
	if locale == "en" {
		return "Aliyun sends only approved templates. File this text in the Aliyun SMS console as a notice template (通知短信), under the sign name of HANDOVER_SMS_SIGN_NAME:\n\n" +
			c.Body + "\n\nOnce it is approved, set its template code (SMS_…) in sms.template_code; until then campaigns using this template are refused. Variables: " +
			strings.Join(vars, "; ") + ". The link's domain and path are fixed text; only the token after /l/ is a variable."
	}
	return "阿里云只发送审核通过的模板。请在阿里云短信控制台以“通知短信”类型、使用 HANDOVER_SMS_SIGN_NAME 中的签名提交以下模板内容：\n\n" +
		c.Body + "\n\n审核通过后，将模板 CODE（SMS_…）填入 sms.template_code；填写前，使用本模板的活动会被拒绝。变量：" +
		strings.Join(vars, "；") + "。链接的域名和路径为模板固定内容，只有 /l/ 之后的令牌是变量。"
}

// wechatFiling is a default WeChat template's description: which template
// to pick in the official account and where the link goes.
func wechatFiling(locale string, fields map[string]string) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	if locale == "en" {
		return "In the official account's template message library, add a template with the fields " + strings.Join(names, ", ") +
			" and set its template id in wechat.template_id; until then campaigns using this template are refused. The customer's personal link is the message's url (the \"details\" line)."
	}
	return "请在公众号“模板消息”中选用字段为 " + strings.Join(names, "、") +
		" 的模板，将模板 ID 填入 wechat.template_id；填写前，使用本模板的活动会被拒绝。客户的个人链接即消息的跳转链接（“详情”）。"
}

// InstallDefaults adds every shipped default template not installed
// before, and reports how many it added. A default once installed is never
// touched again: edits and archiving by staff stay. It is safe to run at
// every start-up and from several processes at once.
func (s *Store) InstallDefaults(ctx context.Context) (int, error) {
	defaults, err := Defaults(s.portalURL)
	if err != nil {
		return 0, err
	}
	added := 0
	for _, t := range defaults {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM templates WHERE default_key = $1`, t.DefaultKey).Scan(&n); err != nil {
			return added, fmt.Errorf("install default templates: %w", err)
		}
		if n > 0 {
			continue
		}
		if _, err := Validate(&Version{Kind: t.Kind, Channel: t.Channel, Locale: t.Locale, Content: t.Content}); err != nil {
			return added, fmt.Errorf("default template %s: %w", t.DefaultKey, err)
		}
		t.ID, t.Version = ulid.Make().String(), 1
		err := s.db.InTx(ctx, func(tx *database.Tx) error {
			ok, err := s.insertTemplate(ctx, tx, t, "system")
			if ok {
				added++
			}
			return err
		})
		if err != nil {
			return added, err
		}
	}
	return added, nil
}
