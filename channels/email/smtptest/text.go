package smtptest

import (
	"bytes"
	"io"
	"strings"

	"github.com/emersion/go-message"
)

// Text is the message's text/plain content, transfer-decoded (every
// text/plain part, joined): what a test checks the customer read. A
// message that cannot be parsed gives "".
func (m Message) Text() string {
	e, err := message.Read(bytes.NewReader(m.Data))
	if err != nil && !message.IsUnknownCharset(err) {
		return ""
	}
	var out []string
	_ = e.Walk(func(_ []int, part *message.Entity, err error) error {
		if err != nil {
			return err
		}
		if mt, _, _ := part.Header.ContentType(); mt == "text/plain" || mt == "" {
			b, _ := io.ReadAll(part.Body)
			out = append(out, string(b))
		}
		return nil
	})
	return strings.Join(out, "\n")
}
