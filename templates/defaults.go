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
	SMS  struct {
		SignName string            `yaml:"sign_name"`
		Body     string            `yaml:"body"`
		Params   map[string]string `yaml:"params"`
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
// and locale, in a stable order. Their DefaultKey is "kind/channel/locale".
func Defaults() ([]*Template, error) {
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
		sms := Content{Body: strings.TrimSpace(f.SMS.Body), SMS: SMSMapping{SignName: f.SMS.SignName, Params: f.SMS.Params}}
		contents := map[channels.Name]Content{
			channels.SMS:    sms,
			channels.Devbox: {Body: sms.Body, SMS: SMSMapping{SignName: sms.SMS.SignName}},
			channels.WeChat: {Body: strings.TrimSpace(f.WeChat.Body), WeChat: WeChatMapping{Fields: f.WeChat.Fields}},
			channels.Email:  {Subject: f.Email.Subject, Body: f.Email.Body, HTMLBody: f.Email.HTML},
		}
		for _, ch := range Channels {
			out = append(out, &Template{Name: f.Name + " (" + channelLabels[ch] + ")", Kind: Kind(kind), Channel: ch,
				Locale: locale, Content: contents[ch], DefaultKey: kind + "/" + string(ch) + "/" + locale})
		}
	}
	return out, nil
}

// InstallDefaults adds every shipped default template not installed
// before, and reports how many it added. A default once installed is never
// touched again: edits and archiving by staff stay. It is safe to run at
// every start-up and from several processes at once.
func (s *Store) InstallDefaults(ctx context.Context) (int, error) {
	defaults, err := Defaults()
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
