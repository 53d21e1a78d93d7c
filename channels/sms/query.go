package sms

import (
	"context"
	"fmt"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dysmsapi"

	"github.com/handoverhq/handover/channels"
)

// QuerySendDetails SendStatus values (1 is waiting for the carrier).
const (
	sendStatusFailed    = 2
	sendStatusDelivered = 3
)

// QueryDetails polls delivery receipts for messages sent to phone (E.164)
// under bizID (the ProviderID Send returned) on sendDate (Beijing date), for
// deployments without push. bizID is required: Aliyun's details do not echo
// it. Messages still waiting for a carrier report are left out. Receipts
// carry the same DedupKey as pushed ones, so polling and push can both run.
func (c *Channel) QueryDetails(ctx context.Context, phone, bizID string, sendDate time.Time) ([]channels.InboundEvent, error) {
	if bizID == "" {
		return nil, fmt.Errorf("sms: QueryDetails needs the BizId of the send")
	}
	number, ok := aliyunNumber(phone)
	if !ok {
		return nil, channels.Errorf(channels.RecipientInvalid, "", "no usable mobile number")
	}
	resp, err := c.querySendDetails(ctx, number, bizID, sendDate)
	if err != nil {
		return nil, err
	}
	var events []channels.InboundEvent
	for _, d := range resp.SmsSendDetailDTOs.SmsSendDetailDTO {
		if d.SendStatus != sendStatusDelivered && d.SendStatus != sendStatusFailed {
			continue // waiting (1) or a status we do not know: not final
		}
		from := normalizePhone(d.PhoneNum)
		e := channels.InboundEvent{
			Channel:           channels.SMS,
			Kind:              channels.EventReceipt,
			DedupKey:          receiptKey(bizID, from),
			From:              channels.Address{Phone: from},
			ProviderMessageID: bizID,
			DeliveryID:        d.OutId,
			Status:            channels.StatusDelivered,
			OccurredAt:        chinaTime(d.ReceiveDate, d.SendDate),
		}
		if d.SendStatus == sendStatusFailed {
			e.Status, e.ErrorCode = channels.StatusFailed, d.ErrCode
		}
		events = append(events, e)
	}
	return events, nil
}

// querySendDetails asks Aliyun for the first page (50) of what went to
// number (Aliyun's form) on day's Beijing date, under bizID when given.
func (c *Channel) querySendDetails(ctx context.Context, number, bizID string, day time.Time) (*dysmsapi.QuerySendDetailsResponse, error) {
	req := dysmsapi.CreateQuerySendDetailsRequest()
	req.PhoneNumber = number
	req.BizId = bizID
	req.SendDate = day.In(china).Format("20060102")
	req.PageSize = requests.NewInteger(50)
	req.CurrentPage = requests.NewInteger(1)
	var resp *dysmsapi.QuerySendDetailsResponse
	err := c.do(ctx, func(cl *dysmsapi.Client) (err error) {
		resp, err = cl.QuerySendDetails(req)
		return err
	})
	if err != nil {
		return nil, classifyErr("QuerySendDetails", err)
	}
	if err := classifyCode("QuerySendDetails", resp.Code, resp.Message); err != nil {
		return nil, err
	}
	return resp, nil
}
