package feedback

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// optOutReply records what an opt-out reply stops: promotional messages
// and surveys on the channel the customer wrote on
// (customers.ReplyOptOutKinds). Required notices cannot be opted out of.
func (s *Service) optOutReply(ctx context.Context, tx *database.Tx, ev channels.InboundEvent, actor string) error {
	_, err := s.cfg.Customers.AddOptOutsTx(ctx, tx, ev.CustomerID, customers.OptOutsOf(ev.Channel, customers.ReplyOptOutKinds),
		customers.SourceReply, actor)
	return err
}

// optOutWords are the confirmation's words per language: channels, kinds,
// and the sentence they go in.
var optOutWords = map[string]map[string]string{
	"zh-CN": {
		string(channels.SMS): "短信", string(channels.WeChat): "微信", string(channels.Email): "电子邮件", string(channels.Devbox): "测试通道", "sep": "和",
		customers.OptOutPromotional: "推广消息", customers.OptOutSurvey: "满意度调查", customers.OptOutService: "服务通知",
		"text": "您已退订%[1]s的%[2]s。您仍会收到%[3]s，以及法律规定必须告知的个人信息转移通知和安全事件通知。" +
			"如需退订更多或恢复接收，请打开我们任一消息中的链接，进入“退订”页面。",
	},
	"en": {
		string(channels.SMS): "SMS", string(channels.WeChat): "WeChat", string(channels.Email): "email", string(channels.Devbox): "the test channel", "sep": " and ",
		customers.OptOutPromotional: "promotional messages", customers.OptOutSurvey: "surveys", customers.OptOutService: "service messages",
		"text": "You will no longer get %[2]s by %[1]s. You still get %[3]s, and the notices the law requires (a transfer of your data, " +
			"a security incident). To stop more, or to get messages again, open the link in any of our messages and choose Unsubscribe.",
	},
}

// OptOutConfirmation is the text confirming a reply opt-out on ch, in the
// customer's language: exactly the kinds it stopped, the kinds that still
// come, and the required notices, which no opt-out stops.
func OptOutConfirmation(ch channels.Name, locale string) string {
	w := optOutWords["zh-CN"]
	if strings.HasPrefix(locale, "en") {
		w = optOutWords["en"]
	}
	var stopped, still []string
	for _, k := range customers.OptOutKinds {
		if slices.Contains(customers.ReplyOptOutKinds, k) {
			stopped = append(stopped, w[k])
		} else {
			still = append(still, w[k])
		}
	}
	name := w[string(ch)]
	if name == "" {
		name = string(ch)
	}
	return fmt.Sprintf(w["text"], name, strings.Join(stopped, w["sep"]), strings.Join(still, w["sep"]))
}
