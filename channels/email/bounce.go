package email

import (
	"regexp"
	"strings"

	"github.com/handoverhq/handover/channels"
)

var statusRe = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)

// bounceFromDSN builds the event for a delivery status notification
// (RFC 3464): failed → bounce; delivered/relayed → receipt; delayed →
// nothing to record.
func bounceFromDSN(ev channels.InboundEvent, s *scan, rcptID string) (channels.InboundEvent, error) {
	var rcpt map[string]string // the first failed recipient, else the first one
	for i, b := range s.dsn {
		if i == 0 && b["final-recipient"] == "" && b["original-recipient"] == "" {
			continue // per-message fields
		}
		if rcpt == nil || (strings.EqualFold(b["action"], "failed") && !strings.EqualFold(rcpt["action"], "failed")) {
			rcpt = b
		}
	}
	action := ""
	if rcpt != nil {
		action = strings.ToLower(strings.TrimSpace(rcpt["action"]))
		ev.ErrorCode = statusRe.FindString(rcpt["status"])
		ev.From.Email = dsnAddress(rcpt["final-recipient"])
		if ev.From.Email == "" {
			ev.From.Email = dsnAddress(rcpt["original-recipient"])
		}
		ev.Text = clipRunes(rcpt["diagnostic-code"], 2000)
	}
	switch action {
	case "delayed":
		return ev, ErrNothingToRecord
	case "delivered", "relayed", "expanded":
		ev.Kind, ev.Status = channels.EventReceipt, channels.StatusDelivered
	default:
		ev.Kind, ev.Status = channels.EventBounce, channels.StatusBounced
	}
	ev.ProviderMessageID = clip(s.returnedID, maxDedupKey)
	ev.DeliveryID = bounceDeliveryID(s.returnedID, rcptID)
	return ev, nil
}

// bounceFromText handles a bounce from the null sender that is not a
// standard report: the status code, if any, is found in its text.
func bounceFromText(ev channels.InboundEvent, s *scan, rcptID string) channels.InboundEvent {
	ev.Kind, ev.Status = channels.EventBounce, channels.StatusBounced
	text := s.plain
	if text == "" {
		text = htmlToText(s.html)
	}
	ev.ErrorCode = statusRe.FindString(text)
	ev.Text = clipRunes(strings.TrimSpace(text), 2000)
	ev.ProviderMessageID = clip(s.returnedID, maxDedupKey)
	ev.DeliveryID = bounceDeliveryID(s.returnedID, rcptID)
	return ev
}

// bounceDeliveryID prefers the Message-ID of the returned original
// (DELIVERYID@domain), then the reply address the bounce was sent to.
func bounceDeliveryID(returnedID, rcptID string) string {
	if id := deliveryIDFromMessageID(returnedID); id != "" {
		return id
	}
	return rcptID
}

// dsnAddress takes the address out of "rfc822; user@example.com".
func dsnAddress(field string) string {
	_, addr, ok := strings.Cut(field, ";")
	if !ok {
		addr = field
	}
	return strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
}
