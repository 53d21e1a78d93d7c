package wechat

import (
	"context"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"

	"github.com/handoverhq/handover/channels"
)

// sendConcurrency is how many messages of one batch are in flight at once.
const sendConcurrency = 4

// Send implements channels.Channel. Notices go out as template messages
// (subscribe messages when Template.Subscribe), replies as customer-service
// text messages. Each Result's ProviderID is WeChat's msgid for template
// messages; subscribe and customer-service sends return none.
func (c *Channel) Send(ctx context.Context, msgs []channels.Message) []channels.Result {
	results := make([]channels.Result, len(msgs))
	sem := make(chan struct{}, sendConcurrency)
	var wg sync.WaitGroup
	for i := range msgs {
		results[i].DeliveryID = msgs[i].DeliveryID
		// The SDK's calls take no context: stop starting new ones instead.
		if err := ctx.Err(); err != nil {
			results[i].Err = channels.Errorf(channels.Transient, "", "send cancelled: %v", err)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i].ProviderID, results[i].Err = c.sendOne(&msgs[i])
		}()
	}
	wg.Wait()
	return results
}

func (c *Channel) sendOne(m *channels.Message) (string, error) {
	openID := m.To.OpenID
	if openID == "" {
		return "", channels.Errorf(channels.RecipientInvalid, "", "customer has no WeChat openid")
	}
	switch m.Kind {
	case channels.Notice:
		t := m.Template
		if t == nil || t.TemplateID == "" {
			return "", channels.Errorf(channels.Permanent, "", "notice needs a WeChat template id")
		}
		if t.Subscribe {
			return c.call("subscribe message", openID, func() (string, error) {
				return "", c.subscribe.Send(subscribeMessage(m))
			})
		}
		return c.call("template message", openID, func() (string, error) {
			id, err := c.template.Send(templateMessage(m))
			if err != nil {
				return "", err
			}
			return strconv.FormatInt(id, 10), nil
		})
	case channels.Reply:
		if m.Text == "" {
			return "", channels.Errorf(channels.Permanent, "", "reply has no text")
		}
		if n := utf8.RuneCountInString(m.Text); n > c.Capabilities().MaxText {
			return "", channels.Errorf(channels.Permanent, "", "reply text is %d characters, more than %d", n, c.Capabilities().MaxText)
		}
		text := m.Text
		if m.Link != "" {
			text += "\n" + m.Link
		}
		return c.call("customer-service message", openID, func() (string, error) {
			return "", c.custom.Send(message.NewCustomerTextMessage(openID, text))
		})
	default:
		return "", channels.Errorf(channels.Permanent, "", "wechat cannot send a %q message", m.Kind)
	}
}

func templateMessage(m *channels.Message) *message.TemplateMessage {
	data := make(map[string]*message.TemplateDataItem, len(m.Template.Params))
	for k, v := range m.Template.Params {
		data[k] = &message.TemplateDataItem{Value: v}
	}
	return &message.TemplateMessage{
		ToUser:      m.To.OpenID,
		TemplateID:  m.Template.TemplateID,
		URL:         m.Link,
		Data:        data,
		ClientMsgID: m.DeliveryID, // WeChat sends one message per openid+id
	}
}

func subscribeMessage(m *channels.Message) *message.SubscribeMessage {
	data := make(map[string]*message.SubscribeDataItem, len(m.Template.Params))
	for k, v := range m.Template.Params {
		data[k] = &message.SubscribeDataItem{Value: v}
	}
	return &message.SubscribeMessage{
		ToUser:     m.To.OpenID,
		TemplateID: m.Template.TemplateID,
		Page:       m.Link,
		Data:       data,
	}
}

// call runs one SDK send. When WeChat rejects the access token it drops
// the cached token (the SDK does not) and tries once more. It reads the
// cached token first so that only the rejected token is dropped, never one
// another worker has just fetched. Errors come back classified and redacted.
func (c *Channel) call(op, openID string, send func() (string, error)) (string, error) {
	token, _ := c.cache.Get(c.tokenKey).(string)
	id, err := send()
	if code, ok := errCode(err); ok && tokenRejected(code) {
		if token == "" { // fetched by this very call
			token, _ = c.cache.Get(c.tokenKey).(string)
		}
		if token != "" {
			_ = c.cache.deleteIf(c.tokenKey, token) // a failed delete shows as a second 40001
		}
		id, err = send()
	}
	if err != nil {
		return "", c.classify(op, openID, err)
	}
	return id, nil
}
