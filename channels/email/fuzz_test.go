package email

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/handoverhq/handover/channels"
)

func FuzzParseInbound(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "", "r-01HXFUZZ@reply.example.com")
		f.Add(b, "a@customer.example", "r-01HXFUZZ@reply.example.com")
	}
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\nContent-Type: message/delivery-status\n\nAction: failed\n--x--"), "", "r-1@reply.example.com")
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a\n"), "x@y", "r-2@reply.example.com")
	f.Add([]byte("Content-Type: text/plain; charset=gbk\nContent-Transfer-Encoding: base64\n\n!!!"), "x@y", "bad")
	f.Fuzz(func(t *testing.T, raw []byte, envelopeFrom, rcpt string) {
		ev, err := ParseInbound(bytes.NewReader(raw), envelopeFrom, rcpt, testReplyDomain)
		if err != nil {
			return
		}
		if ev.Channel != channels.Email || ev.DedupKey == "" || ev.Kind == "" {
			t.Errorf("incomplete event %+v", ev)
		}
		if !utf8.ValidString(ev.Text) {
			t.Errorf("text is not UTF-8: %q", ev.Text)
		}
	})
}
