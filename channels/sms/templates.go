package sms

import (
	"context"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/requests"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dysmsapi"
)

// ApprovedTemplate is one SMS template on the Aliyun account, as
// QuerySmsTemplateList lists it.
type ApprovedTemplate struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Type is notice, promotional or code (Aliyun's OuterTemplateType 1,
	// 2, 0); other types (international) are "other".
	Type string `json:"type"`
	// Text is the approved text, variables written ${name}.
	Text string `json:"text"`
	// Approved is true once Aliyun passed the review.
	Approved bool   `json:"approved"`
	Status   string `json:"status"` // Aliyun's AuditStatus
}

// templatePages bounds how many pages of 50 ApprovedTemplates reads.
const templatePages = 20

// ApprovedTemplates lists the account's SMS templates with their texts
// (QuerySmsTemplateList), so staff pick a code and see its approved text
// instead of typing it.
func (c *Channel) ApprovedTemplates(ctx context.Context) ([]ApprovedTemplate, error) {
	var out []ApprovedTemplate
	for page := 1; page <= templatePages; page++ {
		req := dysmsapi.CreateQuerySmsTemplateListRequest()
		req.PageIndex = requests.NewInteger(page)
		req.PageSize = requests.NewInteger(50)
		var resp *dysmsapi.QuerySmsTemplateListResponse
		err := c.do(ctx, func(cl *dysmsapi.Client) (err error) {
			resp, err = cl.QuerySmsTemplateList(req)
			return err
		})
		if err != nil {
			return nil, classifyErr("QuerySmsTemplateList", err)
		}
		if err := classifyCode("QuerySmsTemplateList", resp.Code, resp.Message); err != nil {
			return nil, err
		}
		for _, t := range resp.SmsTemplateList {
			out = append(out, ApprovedTemplate{Code: t.TemplateCode, Name: t.TemplateName, Type: outerType(t.OuterTemplateType),
				Text: t.TemplateContent, Approved: t.AuditStatus == "AUDIT_STATE_PASS", Status: t.AuditStatus})
		}
		if len(resp.SmsTemplateList) < 50 || int64(len(out)) >= resp.TotalCount {
			break
		}
	}
	return out, nil
}

// outerType names Aliyun's OuterTemplateType as Handover's sms.type.
func outerType(t int) string {
	switch t {
	case 0:
		return "code"
	case 1:
		return "notice"
	case 2:
		return "promotional"
	}
	return "other"
}
