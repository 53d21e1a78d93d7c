package templates

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// NewData builds the data for one recipient. link is their personal link;
// optOut the configured opt-out text ("" for the locale's default).
func NewData(c *customers.Customer, t *transfers.Transfer, link, optOut, locale string) Data {
	if optOut == "" {
		optOut = DefaultOptOut(locale)
	}
	d := Data{Link: link, LinkToken: linkToken(link), OptOut: optOut}
	if c != nil {
		d.Customer = CustomerData{Name: c.Name, Company: c.Company}
	}
	if t != nil {
		d.Transfer = TransferData{SellerName: t.SellerName, BuyerName: t.BuyerName, BuyerContact: t.BuyerContact,
			EffectiveDate: t.EffectiveDate, Purposes: JoinPurposes(locale, t.Purposes)}
	}
	return d
}

// PreviewInput says what to preview a template with. Empty ids use the
// sample customer or transfer; Version 0 is the latest.
type PreviewInput struct {
	CustomerID string
	TransferID string
	Version    int
}

// Preview is a template rendered for a look before sending.
type Preview struct {
	Version int
	// Rendered is the message; a real customer's personal fields in it are
	// masked, as staff see customers.
	Rendered
	// Chars and Segments count the SMS as billed (SMS and devbox only).
	Chars, Segments int
	// Card is a WeChat template message as WeChat shows it: its fields in
	// order, then the details line that opens the personal link (url).
	Card     string
	Warnings []string
}

// Preview renders a template for a customer and transfer (or the samples).
// Missing data and unknown variables are EINVALID errors naming the
// variable; soft issues such as an SMS of several segments are warnings.
// Counts and checks use the real data; the text returned is masked. A
// preview of a real customer is audited.
func (s *Store) Preview(ctx context.Context, id string, in PreviewInput, actor string) (*Preview, error) {
	v, err := s.previewVersion(ctx, id, in.Version)
	if err != nil {
		return nil, err
	}
	sample := SampleData(v.Locale)
	data, masked := sample, sample
	if in.CustomerID != "" {
		c, err := s.customers.FindCustomerByID(ctx, in.CustomerID)
		if err != nil {
			return nil, err
		}
		m := c.Masked()
		data.Customer = CustomerData{Name: c.Name, Company: c.Company}
		masked.Customer = CustomerData{Name: m.Name, Company: m.Company}
	}
	if in.TransferID != "" {
		t, err := s.transfers.FindTransferByID(ctx, in.TransferID)
		if err != nil {
			return nil, err
		}
		data.Transfer = NewData(nil, t, "", "", v.Locale).Transfer
		masked.Transfer = data.Transfer
	}
	r, err := s.Render(ctx, *v, data)
	if err != nil {
		return nil, err
	}
	p := &Preview{Version: v.Number, Rendered: r, Warnings: renderWarnings(v, &r)}
	if v.Channel == channels.SMS || v.Channel == channels.Devbox {
		p.Chars, p.Segments = SMSSegments("", r.Text)
	}
	if in.CustomerID != "" {
		if p.Rendered, err = s.Render(ctx, *v, masked); err != nil {
			return nil, err
		}
	}
	if v.Channel == channels.WeChat && p.Provider != nil && len(p.Provider.Params) > 0 {
		p.Card = wechatCard(p.Provider.Params, data.Link, v.Locale)
	}
	if in.CustomerID == "" {
		return p, nil
	}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "template.preview", ObjectType: "customer", ObjectID: in.CustomerID,
			Detail: fmt.Sprintf("template=%s version=%d", id, v.Number)})
	})
	return p, err
}

func (s *Store) previewVersion(ctx context.Context, id string, number int) (*Version, error) {
	if number > 0 {
		return s.FindTemplateVersion(ctx, id, number)
	}
	t, err := s.FindTemplateByID(ctx, id)
	if err != nil {
		return nil, err
	}
	v := t.Latest()
	return &v, nil
}

// wechatCard lays out a template message as WeChat shows it: first, the
// other fields in name order (keyword1, keyword2, …), remark, and the
// details line that opens the message's url, the personal link.
func wechatCard(fields map[string]string, url, locale string) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		if name != "first" && name != "remark" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	if v, ok := fields["first"]; ok {
		b.WriteString(v + "\n")
	}
	for _, name := range names {
		b.WriteString(name + ": " + fields[name] + "\n")
	}
	if v, ok := fields["remark"]; ok {
		b.WriteString(v + "\n")
	}
	details := "详情"
	if locale == "en" {
		details = "Details"
	}
	b.WriteString(details + " › " + url)
	return b.String()
}
