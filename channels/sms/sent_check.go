package sms

import (
	"context"
	"time"

	"github.com/handoverhq/handover/channels"
)

// WasSent reports whether Aliyun took m (sent before by Send) between
// after and before, for a send whose answer never came: SendSms has no
// idempotency key, so a message is looked for before it is sent again.
// QuerySendDetails lists what went to m's phone on the window's dates
// (Beijing); a message matches by OutId = m.DeliveryID (a lone SendSms),
// or, for SendBatchSms, which carries no OutId, by m's template code and a
// send time inside the window.
func (c *Channel) WasSent(ctx context.Context, m channels.Message, after, before time.Time) (bool, error) {
	number, ok := aliyunNumber(m.To.Phone)
	if !ok || m.Template == nil {
		return false, nil // Send refuses it before calling Aliyun
	}
	days := []time.Time{after}
	if d := before.In(china); d.Format("20060102") != after.In(china).Format("20060102") {
		days = append(days, d)
	}
	for _, day := range days {
		resp, err := c.querySendDetails(ctx, number, "", day)
		if err != nil {
			return false, err
		}
		for _, d := range resp.SmsSendDetailDTOs.SmsSendDetailDTO {
			if d.OutId != "" {
				if d.OutId == m.DeliveryID {
					return true, nil
				}
				continue
			}
			at := chinaTime(d.SendDate)
			if d.TemplateCode == m.Template.TemplateCode && !at.Before(after.Truncate(time.Second)) && !at.After(before) {
				return true, nil
			}
		}
	}
	return false, nil
}
