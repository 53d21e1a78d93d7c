// Package channels is the seam between Handover and the ways it reaches
// customers: WeChat official account, Aliyun SMS, email, and the devbox
// that records messages in embedded mode. Each channel sends batches of
// outbound messages and classifies failures; inbound events (replies,
// receipts, bounces) from any channel are stored by the Inbox, deduplicated,
// before the provider is answered.
package channels

import (
	"context"
	"time"
)

// Name names a channel.
type Name string

// The channels.
const (
	WeChat Name = "wechat"
	SMS    Name = "sms"
	Email  Name = "email"
	Devbox Name = "devbox"
	// Portal is no sending channel: it names events that come from the
	// customer portal (survey free text and low scores) for the inbox.
	Portal Name = "portal"
	// Phone names what a customer said on a call, logged by staff.
	Phone Name = "phone"
)

// String returns the channel's name as stored and as the API shows it.
func (n Name) String() string { return string(n) }

// Key is the channel's name in the message catalog (locales).
func (n Name) Key() string { return "channel." + string(n) }

// Address is where a customer can be reached; a channel uses the field it
// needs.
type Address struct {
	Phone  string // E.164
	Email  string
	OpenID string // WeChat openid under this official account
}

// Kind says what a message is for, which decides how a channel sends it.
type Kind string

// Message kinds.
const (
	// Notice is a templated notification (transfer notice, consent
	// request, survey): WeChat template message, SMS template, email.
	Notice Kind = "notice"
	// Reply is free text from staff answering a customer: WeChat
	// customer-service message (48-hour window), SMS template, email.
	Reply Kind = "reply"
)

// Template carries what a provider's approved template needs.
type Template struct {
	// Aliyun SMS: approved sign name and template code.
	SignName     string
	TemplateCode string
	// WeChat: template id (template message) or subscribe template id.
	TemplateID string
	Subscribe  bool // WeChat subscribe message instead of template message
	// Params fills the template's variables (SMS TemplateParam, WeChat data fields).
	Params map[string]string
}

// Message is one outbound message to one customer.
type Message struct {
	// DeliveryID identifies the delivery row; channels pass it to the
	// provider as an idempotency key (Aliyun OutId, WeChat ClientMsgID,
	// email Message-ID) so a retried send can be recognised.
	DeliveryID string
	CustomerID string
	To         Address
	Kind       Kind
	Subject    string // email
	Text       string // plain text: email text part, WeChat customer-service text, devbox body
	HTML       string // email HTML part (optional)
	Link       string // the customer's personal link
	// ReplyTo is the per-delivery address replies come back to (email).
	ReplyTo string
	// UnsubscribeURL is the portal's opt-out (email List-Unsubscribe).
	UnsubscribeURL string
	// InReplyTo and References thread an email reply under the customer's
	// message: Message-IDs without angle brackets.
	InReplyTo  string
	References []string
	Template   *Template
}

// Result is the outcome of sending one message: a provider id, or Err
// (a *SendError saying how to handle it).
type Result struct {
	DeliveryID string
	ProviderID string
	Err        error
}

// Capabilities describe what a channel can carry.
type Capabilities struct {
	// MaxBatch is the most messages one Send call may carry.
	MaxBatch int
	// MaxText is the longest Text accepted, in characters (0: no limit).
	MaxText int
	// Notices and Replies say which kinds the channel sends.
	Notices, Replies bool
}

// Channel sends messages through one provider.
type Channel interface {
	Name() Name
	Capabilities() Capabilities
	// Send sends up to Capabilities().MaxBatch messages and returns one
	// Result per message, in order. It never returns personal data in
	// errors.
	Send(ctx context.Context, msgs []Message) []Result
}

// EventKind says what an inbound event is.
type EventKind string

// Inbound event kinds.
const (
	EventMessage     EventKind = "message"     // a customer's reply or message
	EventReceipt     EventKind = "receipt"     // delivery status of an outbound message
	EventSubscribe   EventKind = "subscribe"   // followed the official account
	EventUnsubscribe EventKind = "unsubscribe" // unfollowed the official account
	EventBounce      EventKind = "bounce"      // email bounce (DSN)
)

// DeliveryStatus says where one outbound message stands: a campaign's
// delivery (deliveries.status) or a staff reply (ticket_messages.
// delivery_status). Receipts report the last three.
type DeliveryStatus string

// Delivery statuses. The values are the ones stored and the API shows.
const (
	StatusPlanned    DeliveryStatus = "planned"    // a campaign delivery written, not yet in a batch task
	StatusQueued     DeliveryStatus = "queued"     // waiting in a batch task
	StatusSending    DeliveryStatus = "sending"    // a staff reply handed to the channel
	StatusSent       DeliveryStatus = "sent"       // the provider accepted it
	StatusSkipped    DeliveryStatus = "skipped"    // never sent: the planner left the customer out (campaigns.SkipReason)
	StatusSuppressed DeliveryStatus = "suppressed" // never sent: opted out or erased before sending
	StatusDelivered  DeliveryStatus = "delivered"
	StatusFailed     DeliveryStatus = "failed"
	StatusBounced    DeliveryStatus = "bounced"
)

// String returns the status as stored.
func (s DeliveryStatus) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s DeliveryStatus) Key() string { return "delivery." + string(s) }

// InboundEvent is something a provider told us: a reply, a receipt, a
// bounce, a follow. The Inbox stores it (personal fields sealed) before the
// provider is answered.
type InboundEvent struct {
	ID      string
	Channel Name
	Kind    EventKind
	// DedupKey is unique per channel: WeChat MsgId (or FromUserName+
	// CreateTime for events), Aliyun biz_id+phone or sequence_id, email
	// Message-ID. A repeated push with the same key is stored once.
	DedupKey string
	From     Address
	// To is the address the customer wrote to: the per-delivery reply
	// address (email) or the sign name (SMS), used for matching.
	To   string
	Text string
	// MessageID and Subject are an email's own, so that a reply threads.
	MessageID         string
	Subject           string
	ProviderMessageID string         // provider id of the outbound message a receipt is about
	DeliveryID        string         // when the provider echoes it (Aliyun out_id, email reply address)
	Status            DeliveryStatus // receipts: StatusDelivered / StatusFailed / StatusBounced
	ErrorCode         string         // provider's code for a failed receipt
	OccurredAt        time.Time
	// Set by the Inbox when matched, or by the recorder when it knows the
	// customer already (the portal).
	CustomerID string
}

// ReceiptStatus is the delivery status a receipt or bounce reports
// (StatusDelivered, StatusFailed, StatusBounced), "" for any other event
// or a status nobody tracks.
func (ev InboundEvent) ReceiptStatus() DeliveryStatus {
	switch {
	case ev.Kind == EventBounce || ev.Status == StatusBounced:
		return StatusBounced
	case ev.Status == StatusDelivered, ev.Status == StatusFailed:
		return ev.Status
	}
	return ""
}

// RecordFunc stores inbound events durably (deduplicated by channel and
// DedupKey) and returns how many were new. Hook handlers call it before
// answering the provider; (*Inbox).Record is the implementation.
type RecordFunc func(ctx context.Context, events []InboundEvent) (int, error)
