package email

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/url"
	"strings"
	"time"

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

	var replyAddr *mail.Address
	if replyTo != "" {
		if replyAddr, err = mail.ParseAddress(replyTo); err != nil || hasLineBreak(replyTo) {
			return envelope{}, channels.Errorf(channels.Permanent, "reply_to", "reply-to address is invalid")
		}
	}
	if m.UnsubscribeURL != "" && !validUnsubscribeURL(m.UnsubscribeURL) {
		return envelope{}, channels.Errorf(channels.Permanent, "unsubscribe_url", "unsubscribe URL is not an absolute http(s) URL")
	}
	text := m.Text
	if text == "" && m.HTML != "" {
		text = htmlToText(m.HTML)
	}

	writeHeader(buf, "Date", now.Format(time.RFC1123Z))
	writeHeader(buf, "From", c.from.String())
	writeHeader(buf, "To", to.String())
	if replyAddr != nil {
		writeHeader(buf, "Reply-To", replyAddr.String())
	}
	writeHeader(buf, "Subject", mime.QEncoding.Encode("UTF-8", m.Subject))
	writeHeader(buf, "Message-ID", "<"+env.messageID+">")
	if m.InReplyTo != "" || len(m.References) > 0 {
		if err := writeThread(buf, m.InReplyTo, m.References); err != nil {
			return envelope{}, err
		}
	}
	if m.UnsubscribeURL != "" {
		writeHeader(buf, "List-Unsubscribe", "<"+m.UnsubscribeURL+">")
		writeHeader(buf, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	}
	writeHeader(buf, "MIME-Version", "1.0")
	if m.HTML == "" {
		writePart(buf, "text/plain", text)
		return env, nil
	}
	boundary, err := newBoundary()
	if err != nil {
		return envelope{}, channels.Errorf(channels.Transient, "compose", "message could not be composed")
	}
	writeHeader(buf, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	buf.WriteString("\r\n")
	for _, part := range [...]struct{ kind, body string }{{"text/plain", text}, {"text/html", m.HTML}} {
		buf.WriteString("--" + boundary + "\r\n")
		writePart(buf, part.kind, part.body)
	}
	buf.WriteString("--" + boundary + "--\r\n")
	return env, nil
}

// writeThread writes In-Reply-To and References (RFC 5322 3.6.4) so that
// a reply threads under the customer's message. Each id must be one a
// header can carry unchanged.
func writeThread(buf *bytes.Buffer, inReplyTo string, references []string) error {
	refs := make([]string, 0, len(references))
	for _, id := range references {
		if !validMessageID(id) {
			return channels.Errorf(channels.Permanent, "references", "a References id is not a usable Message-ID")
		}
		refs = append(refs, "<"+id+">")
	}
	if inReplyTo != "" {
		if !validMessageID(inReplyTo) {
			return channels.Errorf(channels.Permanent, "in_reply_to", "In-Reply-To is not a usable Message-ID")
		}
		writeHeader(buf, "In-Reply-To", "<"+inReplyTo+">")
	}
	if len(refs) > 0 {
		writeHeader(buf, "References", strings.Join(refs, " "))
	}
	return nil
}

// newBoundary is a random multipart boundary starting "=_", which neither
// encoding can produce (quoted-printable follows '=' with hex digits or a
// line break, base64 pads with '=' only at the end), so it never occurs in
// a body.
func newBoundary() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "=_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// writeHeader writes one header field, folded at spaces before 78
// characters where it can be (RFC 5322 2.2.3; encoded words and address
// lists have spaces between their tokens). Values never hold a line break:
// addresses and URLs are checked and the subject is RFC 2047 encoded.
func writeHeader(buf *bytes.Buffer, name, value string) {
	buf.WriteString(name)
	buf.WriteString(":")
	width := len(name) + 1
	for {
		token, rest, more := strings.Cut(value, " ")
		if width > len(name)+1 && width+1+len(token) > 78 {
			buf.WriteString("\r\n")
			width = 0
		}
		buf.WriteByte(' ')
		buf.WriteString(token)
		width += 1 + len(token)
		if !more {
			break
		}
		value = rest
	}
	buf.WriteString("\r\n")
}

// writePart writes a text part's header fields, the blank line and its
// body in the shorter transfer encoding (bodyEncoding), CRLF lines.
func writePart(buf *bytes.Buffer, kind, body string) {
	enc := bodyEncoding(body)
	writeHeader(buf, "Content-Type", kind+"; charset=UTF-8")
	writeHeader(buf, "Content-Transfer-Encoding", enc)
	buf.WriteString("\r\n")
	if enc == "base64" {
		for len(body) > 0 {
			n := min(57, len(body)) // 57 bytes make one 76-character line
			buf.Write(base64.StdEncoding.AppendEncode(buf.AvailableBuffer(), []byte(body[:n])))
			buf.WriteString("\r\n")
			body = body[n:]
		}
		return
	}
	qp := quotedprintable.NewWriter(buf)
	_, _ = qp.Write([]byte(body)) // a bytes.Buffer does not fail
	_ = qp.Close()
	buf.WriteString("\r\n")
}

// bodyEncoding is the shorter transfer encoding for body: quoted-printable
// writes a non-ASCII byte in three, base64 every byte in 4/3, so a body
// more than a sixth non-ASCII (Chinese text is nearly all of it) is shorter
// in base64, and cheaper to write, send and read.
func bodyEncoding(body string) string {
	var high int
	for i := 0; i < len(body); i++ {
		if body[i] >= 0x80 {
			high++
		}
	}
	if 6*high > len(body) {
		return "base64"
	}
	return "quoted-printable"
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
