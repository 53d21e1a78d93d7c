package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // GB2312/GBK/GB18030 and other charsets
	"github.com/emersion/go-message/mail"

	"github.com/handoverhq/handover/channels"
)

// Limits on what ParseInbound reads.
const (
	maxParts     = 64      // MIME parts visited
	maxDepth     = 8       // multipart nesting
	maxPartBytes = 1 << 20 // text read from one part
	maxTextRunes = 32 << 10
	maxDedupKey  = 200
	// maxSubjectRunes clips a kept subject.
	maxSubjectRunes = 200
)

// ErrNothingToRecord is returned by ParseInbound for mail that calls for no
// event: delivery-delay notices and read receipts. The sender should still
// be answered 250.
var ErrNothingToRecord = errors.New("email: notice with nothing to record")

// ParseInbound turns one received message into an inbound event: a reply
// (EventMessage, quoted text trimmed) or a bounce report (EventBounce).
// envelopeFrom is MAIL FROM ("" for bounces), rcpt the RCPT TO address.
// Errors name no address and quote no content.
func ParseInbound(raw io.Reader, envelopeFrom, rcpt, replyDomain string) (channels.InboundEvent, error) {
	data, err := io.ReadAll(raw)
	if err != nil {
		return channels.InboundEvent{}, errors.New("email: reading message failed")
	}
	ent, err := message.Read(bytes.NewReader(data))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return channels.InboundEvent{}, errors.New("email: malformed message header")
	}
	h := mail.Header{Header: ent.Header}
	var s scan
	s.visit(ent, 0, false)

	ev := channels.InboundEvent{
		Channel:  channels.Email,
		Kind:     channels.EventMessage,
		DedupKey: dedupKey(h, data),
		To:       strings.ToLower(rcpt),
	}
	rcptID, _ := DeliveryIDFromAddress(rcpt, replyDomain)
	switch {
	case s.reportType == "delivery-status" || s.dsn != nil:
		return bounceFromDSN(ev, &s, rcptID)
	case s.reportType == "disposition-notification":
		return ev, ErrNothingToRecord
	case envelopeFrom == "" && !autoReply(h):
		return bounceFromText(ev, &s, rcptID), nil
	}
	ev.From.Email = senderAddress(h, envelopeFrom)
	ev.DeliveryID = rcptID
	ev.MessageID, ev.Subject = threadOf(h)
	if ids, _ := h.MsgIDList("In-Reply-To"); len(ids) > 0 {
		ev.ProviderMessageID = clip(ids[0], maxDedupKey)
		if ev.DeliveryID == "" {
			ev.DeliveryID = deliveryIDFromMessageID(ids[0])
		}
	}
	text := s.plain
	if strings.TrimSpace(text) == "" {
		text = htmlToText(s.html)
	}
	ev.Text = clipRunes(trimQuoted(text), maxTextRunes)
	return ev, nil
}

// threadOf is what a reply needs to thread under the message: its
// Message-ID when it is one a header can carry back, and its subject
// (decoded, one line, clipped).
func threadOf(h mail.Header) (messageID, subject string) {
	if id, err := h.MessageID(); err == nil && validMessageID(id) {
		messageID = id
	}
	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject")
	}
	subject = strings.Join(strings.Fields(strings.ToValidUTF8(subject, "")), " ")
	if strings.Contains(subject, "=?") {
		subject = "" // an encoded word in a charset we cannot read
	}
	return messageID, clipRunes(subject, maxSubjectRunes)
}

// validMessageID accepts a Message-ID (without brackets) that can be
// written back into In-Reply-To and References unchanged.
func validMessageID(id string) bool {
	if id == "" || len(id) > maxDedupKey || !strings.Contains(id, "@") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' || id[i] == '<' || id[i] == '>' {
			return false
		}
	}
	return true
}

// dedupKey is the Message-ID, or a hash of the whole message when it has
// none (or an unusable one).
func dedupKey(h mail.Header, raw []byte) string {
	if id, err := h.MessageID(); err == nil && id != "" && len(id) <= maxDedupKey && utf8.ValidString(id) {
		return id
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// senderAddress is the header From address, else the envelope sender,
// lowercased.
func senderAddress(h mail.Header, envelopeFrom string) string {
	if list, err := h.AddressList("From"); err == nil && len(list) > 0 {
		return strings.ToLower(list[0].Address)
	}
	return strings.ToLower(strings.TrimSpace(envelopeFrom))
}

// autoReply recognises RFC 3834 automatic replies (out-of-office), which
// come from the null sender but are not bounces.
func autoReply(h mail.Header) bool {
	v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	return strings.HasPrefix(v, "auto-replied")
}

// deliveryIDFromMessageID takes DELIVERYID from DELIVERYID@domain, the
// Message-ID the channel gives every outbound message.
func deliveryIDFromMessageID(id string) string {
	at := strings.LastIndexByte(id, '@')
	if at < 1 || !validDeliveryID(id[:at]) {
		return ""
	}
	return id[:at]
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
