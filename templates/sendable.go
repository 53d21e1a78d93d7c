package templates

import (
	"fmt"

	"github.com/handoverhq/handover"

	"github.com/handoverhq/handover/channels"
)

// Unsendable says what keeps a template from going out through its
// provider, or "" when nothing does: an SMS without its approved Aliyun
// template code, or whose approved link is not this server's (portalURL is
// HANDOVER_PUBLIC_URL); a WeChat notice without its template id. Campaigns
// are refused on it when created or started, instead of failing every
// message once sent.
func (t *Template) Unsendable(portalURL string) string {
	v := t.Latest()
	if _, err := Validate(&v); err != nil {
		// Stored before today's checks (e.g. an SMS written in our own
		// template syntax, not the approved text).
		return fmt.Sprintf("template %q (%s) does not pass the checks: %s", t.Name, t.ID, handover.ErrorMessage(err))
	}
	switch t.Channel {
	case channels.SMS:
		if t.SMS.TemplateCode == "" {
			return fmt.Sprintf("SMS template %q (%s) has no Aliyun template code: file its text with Aliyun (see its description) and set sms.template_code", t.Name, t.ID)
		}
		if prefix := SMSLinkPrefix(&v); prefix != "" && portalURL != "" && prefix != portalURL+"/l/" {
			return fmt.Sprintf("SMS template %q (%s) links to %s, but this server's links are %s/l/: file a text with this server's address", t.Name, t.ID, prefix, portalURL)
		}
	case channels.WeChat:
		if t.WeChat.TemplateID == "" {
			return fmt.Sprintf("WeChat template %q (%s) has no WeChat template id: set wechat.template_id to the official account's template", t.Name, t.ID)
		}
	}
	return ""
}
