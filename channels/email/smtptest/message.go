package smtptest

import (
	"bytes"
	"mime"
	"net/mail"
)

// Message is one accepted message: envelope and raw data (CRLF lines, as
// received after DATA).
type Message struct {
	From string   // MAIL FROM
	To   []string // RCPT TO
	Data []byte
}

// Header parses the message's header fields (values still RFC 2047
// encoded; see Subject). A malformed header gives an empty one.
func (m Message) Header() mail.Header {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		return mail.Header{}
	}
	return msg.Header
}

// Subject is the decoded Subject field.
func (m Message) Subject() string {
	raw := m.Header().Get("Subject")
	s, err := new(mime.WordDecoder).DecodeHeader(raw)
	if err != nil {
		return raw
	}
	return s
}
