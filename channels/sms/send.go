package sms

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aliyun/alibaba-cloud-sdk-go/services/dysmsapi"

	"github.com/handoverhq/handover/channels"
)

// maxBatch is SendBatchSms's limit of numbers per call.
const maxBatch = 100

// outbound is a checked message ready for the API.
type outbound struct {
	index    int // position in Send's msgs and results
	phone    string
	signName string
	params   string // TemplateParam JSON object
}

// Send sends msgs and returns one result per message, in order. Messages
// sharing a template code go out together with SendBatchSms, at most 100
// per call; a lone message uses SendSms, which carries OutId = DeliveryID.
// Send accepts more than MaxBatch messages and splits them itself.
func (c *Channel) Send(ctx context.Context, msgs []channels.Message) []channels.Result {
	results := make([]channels.Result, len(msgs))
	groups := map[string][]outbound{}
	var codes []string // template codes in first-seen order, for stable calls
	for i, m := range msgs {
		results[i].DeliveryID = m.DeliveryID
		o, code, err := c.prepare(i, m)
		if err != nil {
			results[i].Err = err
			continue
		}
		if _, ok := groups[code]; !ok {
			codes = append(codes, code)
		}
		groups[code] = append(groups[code], o)
	}
	for _, code := range codes {
		group := groups[code]
		for len(group) > 0 {
			n := min(len(group), maxBatch)
			c.sendChunk(ctx, code, group[:n], msgs, results)
			group = group[n:]
		}
	}
	return results
}

// prepare checks one message and turns it into API values.
func (c *Channel) prepare(i int, m channels.Message) (outbound, string, error) {
	t := m.Template
	if t == nil || t.TemplateCode == "" {
		return outbound{}, "", channels.Errorf(channels.Permanent, "", "SMS needs an approved template code")
	}
	phone, ok := aliyunNumber(m.To.Phone)
	if !ok {
		return outbound{}, "", channels.Errorf(channels.RecipientInvalid, "", "no usable mobile number")
	}
	sign := t.SignName
	if sign == "" {
		sign = c.cfg.SignName
	}
	params := "{}"
	if len(t.Params) > 0 {
		b, err := json.Marshal(t.Params)
		if err != nil { // map[string]string always marshals
			return outbound{}, "", channels.Errorf(channels.Permanent, "", "template params: %v", err)
		}
		params = string(b)
	}
	return outbound{index: i, phone: phone, signName: sign, params: params}, t.TemplateCode, nil
}

// sendChunk sends up to 100 messages of one template code and fills their
// results.
func (c *Channel) sendChunk(ctx context.Context, code string, chunk []outbound, msgs []channels.Message, results []channels.Result) {
	if err := ctx.Err(); err != nil {
		for _, o := range chunk {
			results[o.index].Err = classifyErr("SendSms", err)
		}
		return
	}
	if len(chunk) == 1 {
		o := chunk[0]
		results[o.index].ProviderID, results[o.index].Err = c.sendOne(ctx, code, o, msgs[o.index].DeliveryID)
		return
	}
	bizID, err := c.sendBatch(ctx, code, chunk)
	var se *channels.SendError
	if asSendError(err, &se) && perRecipient(se) {
		// Aliyun rejects the whole batch for one bad or over-limit number:
		// nothing was sent, so send singly to isolate it.
		for _, o := range chunk {
			results[o.index].ProviderID, results[o.index].Err = c.sendOne(ctx, code, o, msgs[o.index].DeliveryID)
		}
		return
	}
	for _, o := range chunk {
		results[o.index].ProviderID, results[o.index].Err = bizID, err
	}
}

// sendOne calls SendSms for one number; OutId carries the delivery id so
// receipts (out_id) and retries can be tied back to the delivery.
func (c *Channel) sendOne(ctx context.Context, code string, o outbound, deliveryID string) (string, error) {
	req := dysmsapi.CreateSendSmsRequest()
	req.PhoneNumbers = o.phone
	req.SignName = o.signName
	req.TemplateCode = code
	req.TemplateParam = o.params
	req.OutId = deliveryID
	var resp *dysmsapi.SendSmsResponse
	err := c.do(ctx, func(cl *dysmsapi.Client) (err error) {
		resp, err = cl.SendSms(req)
		return err
	})
	if err != nil {
		return "", classifyErr("SendSms", err)
	}
	if err := classifyCode("SendSms", resp.Code, resp.Message); err != nil {
		return "", err
	}
	return resp.BizId, nil
}

// sendBatch calls SendBatchSms. The API has one OutId per call, not per
// number, so it is left empty: every message of the batch gets the shared
// BizId as ProviderID, and receipts are matched on biz_id + phone.
func (c *Channel) sendBatch(ctx context.Context, code string, chunk []outbound) (string, error) {
	phones := make([]string, len(chunk))
	signs := make([]string, len(chunk))
	params := make([]json.RawMessage, len(chunk))
	for i, o := range chunk {
		phones[i], signs[i], params[i] = o.phone, o.signName, json.RawMessage(o.params)
	}
	req := dysmsapi.CreateSendBatchSmsRequest()
	req.TemplateCode = code
	req.PhoneNumberJson = mustJSON(phones)
	req.SignNameJson = mustJSON(signs)
	req.TemplateParamJson = mustJSON(params)
	var resp *dysmsapi.SendBatchSmsResponse
	err := c.do(ctx, func(cl *dysmsapi.Client) (err error) {
		resp, err = cl.SendBatchSms(req)
		return err
	})
	if err != nil {
		return "", classifyErr("SendBatchSms", err)
	}
	if err := classifyCode("SendBatchSms", resp.Code, resp.Message); err != nil {
		return "", err
	}
	return resp.BizId, nil
}

// mustJSON encodes values that cannot fail to encode (strings, raw JSON
// produced by json.Marshal).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("sms: " + err.Error())
	}
	return string(b)
}

// aliyunNumber turns an E.164 number into the form SendSms wants: mainland
// numbers as 11 bare digits, others as country code + number without "+"
// or "00". A bare 11-digit mainland number is accepted as is.
func aliyunNumber(e164 string) (string, bool) {
	p := strings.TrimSpace(e164)
	switch {
	case strings.HasPrefix(p, "+86") && len(p) == 14:
		p = p[3:]
	case strings.HasPrefix(p, "+"):
		p = p[1:]
	case len(p) == 11 && p[0] == '1':
	default:
		return "", false
	}
	if len(p) < 7 || len(p) > 15 || !allDigits(p) {
		return "", false
	}
	return p, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
