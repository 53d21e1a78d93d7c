package email

import (
	"bytes"
	"net/mail"
	"net/url"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/handoverhq/handover/channels"
)

// envelope is one composed message ready for the SMTP transaction.
type envelope struct {
	messageID string // without angle brackets; the Result's ProviderID
	from      string // MAIL FROM
	rcpt      string // RCPT TO
	data      *bytes.Buffer
}

// compose builds the RFC 5322 message for m. Failures are *SendErrors that
// name no address.
func (c *Channel) compose(m *channels.Message, now time.Time, buf *bytes.Buffer) (envelope, error) {
	if !validDeliveryID(m.DeliveryID) {
		return envelope{}, channels.Errorf(channels.Permanent, "delivery_id", "delivery id is missing or not usable in a Message-ID")
	}
	to, err := mail.ParseAddress(m.To.Email)
	if err != nil || !strings.Contains(to.Address, "@") || hasLineBreak(to.Address) {
		return envelope{}, channels.Errorf(channels.RecipientInvalid, "address", "recipient email address is missing or invalid")
	}
	env := envelope{
		messageID: m.DeliveryID + "@" + c.fromDomain,
		from:      c.from.Address,
		rcpt:      to.Address,
		data:      buf,
	}
	replyTo := m.ReplyTo
	if c.cfg.ReplyDomain != "" {
		// Bounces go to the envelope sender: make it the Listener's.
		env.from = ReplyAddress(m.DeliveryID, c.cfg.ReplyDomain)
		if replyTo == "" {
			replyTo = env.from
		}
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(c.from)
	msg.ToMailAddress(to)
	if replyTo != "" {
		if err := msg.ReplyTo(replyTo); err != nil || hasLineBreak(replyTo) {
			return envelope{}, channels.Errorf(channels.Permanent, "reply_to", "reply-to address is invalid")
		}
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(env.messageID)
	if m.UnsubscribeURL != "" {
		if !validUnsubscribeURL(m.UnsubscribeURL) {
			return envelope{}, channels.Errorf(channels.Permanent, "unsubscribe_url", "unsubscribe URL is not an absolute http(s) URL")
		}
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, "<"+m.UnsubscribeURL+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	text := m.Text
	if text == "" && m.HTML != "" {
		text = htmlToText(m.HTML)
	}
	msg.SetBodyString(gomail.TypeTextPlain, text, gomail.WithPartEncoding(bodyEncoding(text)))
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML, gomail.WithPartEncoding(bodyEncoding(m.HTML)))
	}
	if _, err := msg.WriteTo(buf); err != nil {
		return envelope{}, channels.Errorf(channels.Permanent, "compose", "message could not be composed")
	}
	return env, nil
}

// bodyEncoding is the shorter transfer encoding for body: quoted-printable
// writes a non-ASCII byte in three, base64 every byte in 4/3, so a body
// more than a sixth non-ASCII (Chinese text is nearly all of it) is shorter
// in base64, and cheaper to write, send and read.
func bodyEncoding(body string) gomail.Encoding {
	var high int
	for i := 0; i < len(body); i++ {
		if body[i] >= 0x80 {
			high++
		}
	}
	if 6*high > len(body) {
		return gomail.EncodingB64
	}
	return gomail.EncodingQP
}

func hasLineBreak(s string) bool { return strings.ContainsAny(s, "\r\n") }

// validUnsubscribeURL accepts absolute http(s) URLs that fit in a header.
func validUnsubscribeURL(raw string) bool {
	if len(raw) > 900 || strings.ContainsAny(raw, "\r\n <>\t") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
