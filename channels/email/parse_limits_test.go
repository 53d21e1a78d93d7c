package email

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// TestPathologicalInputsAreFast guards against quadratic work on hostile mail.
func TestPathologicalInputsAreFast(t *testing.T) {
	dsnHead := "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b\n"
	inputs := map[string]string{
		"folded dsn":  dsnHead + strings.Repeat(" x\n", 400000) + "--x--\n",
		"dsn blocks":  dsnHead + strings.Repeat("A: b\n\n", 200000) + "--x--\n",
		"on lines":    "Content-Type: text/plain\n\n" + strings.Repeat("On x\n", 200000),
		"zai lines":   "Content-Type: text/plain\n\n" + strings.Repeat("在 ", 300000),
		"nested html": "Content-Type: text/html\n\n" + strings.Repeat("<div><blockquote>", 100000),
		"long line":   "Content-Type: text/plain\n\n" + strings.Repeat("a", 1<<20),
		"many parts":  "Content-Type: multipart/mixed; boundary=a\n\n" + strings.Repeat("--a\nContent-Type: text/plain\n\nx\n", 100000),
		"deep nest":   strings.Repeat("Content-Type: multipart/mixed; boundary=a\n\n--a\n", 10000),
		"quoted":      "Content-Type: text/plain\n\n" + strings.Repeat(">\n", 500000),
	}
	for name, in := range inputs {
		start := time.Now()
		ParseInbound(bytes.NewReader([]byte(in)), "", "r-1@reply.example.com", testReplyDomain)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", name, d)
		} else {
			t.Logf("%s: %v", name, d)
		}
	}
}
