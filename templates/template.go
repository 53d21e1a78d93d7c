// Package templates holds the messages Handover sends: versioned templates
// per kind, channel and locale, checked at save time against PIPL's rules
// (a transfer notice names the buyer and how to reach them, a consent
// request names the purposes), rendered against a fixed data model, and
// counted in SMS segments as Chinese carriers bill them.
//
// Providers send only what they approved. An SMS template is the text
// approved by Aliyun, exactly as filed, with ${name} variables filled from
// params: it is checked against Aliyun's rules for its type (notice,
// promotional, code) and everything (checks, preview, segments) runs on it
// with the params filled in. A WeChat template message is its fields, with
// the personal link as the message's url.
package templates

import (
	"strings"
	"time"

	"github.com/handoverhq/handover/channels"
)

// Kind says what a message is for.
type Kind string

// Template kinds.
const (
	TransferNotice Kind = "transfer_notice"
	ConsentRequest Kind = "consent_request"
	DetailCheck    Kind = "detail_check"
	Survey         Kind = "survey"
	IncidentNotice Kind = "incident_notice"
	Generic        Kind = "generic"
)

// Kinds lists every kind, in display order.
var Kinds = []Kind{TransferNotice, ConsentRequest, DetailCheck, Survey, IncidentNotice, Generic}

// Channels lists the channels a template may be written for.
var Channels = []channels.Name{channels.WeChat, channels.SMS, channels.Email, channels.Devbox}

// Locales lists the locales a template may be written in.
var Locales = []string{"zh-CN", "en"}

// SMSMapping is what Aliyun needs to send an SMS: the approved sign name
// (empty: the configured HANDOVER_SMS_SIGN_NAME), the type the template is
// filed under, its approved template code, and how to fill the approved
// text's variables. Params maps an Aliyun variable name to a template
// expression, e.g. {"name": "{{.Customer.Name}}", "code": "{{.LinkToken}}"}.
// For the SMS channel the Content's Body is the approved text exactly as
// filed, its variables written ${name}: Aliyun sends only that text.
type SMSMapping struct {
	SignName     string
	Type         SMSType
	TemplateCode string
	Params       map[string]string
}

// WeChatMapping is what a WeChat template or subscribe message needs: the
// template id and, per data field, a template expression.
type WeChatMapping struct {
	TemplateID string
	Fields     map[string]string
	Subscribe  bool
}

// Content is what an author writes; every edit stores a new copy.
type Content struct {
	// Description is for staff: what the template is for and, for SMS and
	// WeChat, what to file with the provider.
	Description string
	Subject     string // email only
	Body        string // text/template: SMS text, WeChat text, email text part
	HTMLBody    string // email only, html/template (optional)
	SMS         SMSMapping
	WeChat      WeChatMapping
}

// Version is one immutable revision of a template: what a delivery renders
// and records.
type Version struct {
	TemplateID string
	Number     int
	Kind       Kind
	Channel    channels.Name
	Locale     string
	Content
	CreatedBy string
	CreatedAt time.Time
}

// Template is a template as staff manage it: its identity and its latest
// version's content.
type Template struct {
	ID       string
	Name     string
	Kind     Kind
	Channel  channels.Name
	Locale   string
	Version  int // the latest version number
	Content      // the latest version's content
	Archived bool
	// DefaultKey is "kind/channel/locale" for a shipped default, else "".
	DefaultKey string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// Warnings are soft issues found by the last create or update (for
	// example an SMS longer than one segment); they are not stored.
	Warnings []string
}

// Latest returns the template's latest version.
func (t *Template) Latest() Version {
	return Version{TemplateID: t.ID, Number: t.Version, Kind: t.Kind, Channel: t.Channel, Locale: t.Locale,
		Content: t.Content, CreatedBy: t.CreatedBy, CreatedAt: t.UpdatedAt}
}

// Data is everything a template may use. The fields are the whole,
// documented data model; a template naming anything else is refused.
//
//	.Customer.Name .Customer.Company
//	.Transfer.SellerName .Transfer.BuyerName .Transfer.BuyerContact
//	.Transfer.EffectiveDate .Transfer.Purposes
//	.Link .LinkToken .OptOut
type Data struct {
	Customer CustomerData
	Transfer TransferData
	// Link is the customer's personal link.
	Link string
	// LinkToken is the link's last path segment: what an approved SMS
	// text's link variable carries after its fixed https://domain/l/.
	LinkToken string
	// OptOut is the opt-out instruction, e.g. "回T退订".
	OptOut string
}

// CustomerData is the part of a customer a message may show.
type CustomerData struct {
	Name    string
	Company string
}

// TransferData is what a message says about the transfer (PIPL Art. 22).
type TransferData struct {
	SellerName    string
	BuyerName     string
	BuyerContact  string
	EffectiveDate string // YYYY-MM-DD
	Purposes      string // the purposes, joined for the locale
}

// Variables lists every variable of Data, as written in a template.
var Variables = []string{
	".Customer.Name", ".Customer.Company",
	".Transfer.SellerName", ".Transfer.BuyerName", ".Transfer.BuyerContact", ".Transfer.EffectiveDate", ".Transfer.Purposes",
	".Link", ".LinkToken", ".OptOut",
}

// value returns the variable at path in d, and whether path names one.
func (d *Data) value(path string) (string, bool) {
	switch path {
	case ".Customer.Name":
		return d.Customer.Name, true
	case ".Customer.Company":
		return d.Customer.Company, true
	case ".Transfer.SellerName":
		return d.Transfer.SellerName, true
	case ".Transfer.BuyerName":
		return d.Transfer.BuyerName, true
	case ".Transfer.BuyerContact":
		return d.Transfer.BuyerContact, true
	case ".Transfer.EffectiveDate":
		return d.Transfer.EffectiveDate, true
	case ".Transfer.Purposes":
		return d.Transfer.Purposes, true
	case ".Link":
		return d.Link, true
	case ".LinkToken":
		return d.LinkToken, true
	case ".OptOut":
		return d.OptOut, true
	}
	return "", false
}

// DefaultOptOut is the opt-out instruction for a locale when none is
// configured. Chinese carriers recognise "T" replies.
func DefaultOptOut(locale string) string {
	if locale == "en" {
		return "Reply T to opt out"
	}
	return "回T退订"
}

// JoinPurposes joins transfer purposes as the locale writes a list.
func JoinPurposes(locale string, purposes []string) string {
	if locale == "en" {
		return strings.Join(purposes, ", ")
	}
	return strings.Join(purposes, "、")
}

// SampleData is the data templates are checked against at save time and
// previewed with when no customer or transfer is given.
func SampleData(locale string) Data {
	if locale == "en" {
		return Data{
			Customer: CustomerData{Name: "Alex Chen", Company: "Acme Hardware Ltd"},
			Transfer: TransferData{SellerName: "East China Hardware Wholesale Co.", BuyerName: "Jiangnan Trading Group",
				BuyerContact: "400-800-1234, privacy@jiangnan.example", EffectiveDate: "2025-07-01",
				Purposes: "order fulfilment, after-sales service"},
			Link: SampleLink, LinkToken: linkToken(SampleLink), OptOut: DefaultOptOut(locale),
		}
	}
	return Data{
		Customer: CustomerData{Name: "张三", Company: "华东五金商行"},
		Transfer: TransferData{SellerName: "华东五金批发有限公司", BuyerName: "江南商贸集团",
			BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01", Purposes: "订单履行、售后服务"},
		Link: SampleLink, LinkToken: linkToken(SampleLink), OptOut: DefaultOptOut(locale),
	}
}

// SampleLink is the personal link of the sample data.
const SampleLink = samplePortal + "/l/0n7c2aqAb3dE6gH9jK"

// samplePortal is the public URL templates are written with when none is
// configured.
const samplePortal = "https://h.example.cn"

// linkToken is the last path segment of a personal link.
func linkToken(link string) string {
	return link[strings.LastIndex(link, "/")+1:]
}
