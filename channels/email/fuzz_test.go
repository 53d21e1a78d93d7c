package email

import (
	"bytes"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message"

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
		if ev.MessageID != "" && !validMessageID(ev.MessageID) {
			t.Errorf("kept a Message-ID a reply cannot carry: %q", ev.MessageID)
		}
		if !utf8.ValidString(ev.Subject) || strings.ContainsAny(ev.Subject, "\r\n") {
			t.Errorf("subject is not one line of UTF-8: %q", ev.Subject)
		}
		if ev.MessageID != "" {
			// What was kept threads a reply: the channel writes it back.
			var buf bytes.Buffer
			if err := writeThread(&buf, ev.MessageID, []string{ev.MessageID}); err != nil {
				t.Errorf("cannot thread under %q: %v", ev.MessageID, err)
			}
		}
	})
}

// FuzzCompose writes messages from arbitrary subjects and bodies (customer
// data reaches them through templates) and reads them back as a mail
// client would: the same subject and parts, CRLF lines of at most 998
// octets, nothing outside the header fields it meant to write.
func FuzzCompose(f *testing.F) {
	f.Add("您的账户已转移 — 请确认", "你好，李雷\n请点击链接确认。", "<p>你好，<b>李雷</b></p>")
	f.Add("Notice", "Dear Mr Li,\n.a line with a dot\r\n\r\nBcc: x@y", "")
	f.Add(strings.Repeat("长", 200), strings.Repeat("x", 2000), strings.Repeat("<p>段落</p>", 300))
	f.Add("a\r\nBcc: evil@example.com", "=_ --", "=_QP")
	ch, err := New(Config{SMTPURL: "smtp+insecure://127.0.0.1:25", From: "Handover 通知 <notice@example.com>"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, subject, text, html string) {
		if !utf8.ValidString(subject) || !utf8.ValidString(text) || !utf8.ValidString(html) ||
			utf8.RuneCountInString(subject) > 200 || text == "" {
			return // templates allow only these (templates.check)
		}
		var buf bytes.Buffer
		m := channels.Message{DeliveryID: "01HXFUZZ", To: channels.Address{Email: "li@customer.example"},
			Subject: subject, Text: text, HTML: html}
		if _, err := ch.compose(&m, time.Unix(1700000000, 0), &buf); err != nil {
			t.Fatalf("compose: %v", err)
		}
		raw := buf.Bytes()
		for line := range bytes.SplitSeq(raw, []byte("\r\n")) {
			if len(line) > 998 || bytes.IndexByte(line, '\n') >= 0 || bytes.IndexByte(line, '\r') >= 0 {
				t.Fatalf("bad line %q", line[:min(len(line), 80)])
			}
		}
		e, err := message.Read(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("read back: %v", err)
		}
		for _, k := range []string{"Bcc", "Cc"} {
			if e.Header.Has(k) {
				t.Fatalf("header %s written", k)
			}
		}
		if got, _ := new(mime.WordDecoder).DecodeHeader(e.Header.Get("Subject")); got != subject {
			t.Errorf("subject %q, want %q", got, subject)
		}
		crlf := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n") }
		read := func(e *message.Entity) string {
			b, err := io.ReadAll(e.Body)
			if err != nil {
				t.Fatalf("read body: %v", err)
			}
			return crlf(string(b))
		}
		if html == "" {
			// The message's last line ends with CRLF, which for a single
			// part belongs to the body.
			if got := read(e); got != crlf(text) && got != crlf(text)+"\n" {
				t.Errorf("text %q, want %q", got, text)
			}
			return
		}
		mr := e.MultipartReader()
		for _, want := range []string{text, html} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part: %v", err)
			}
			if got := read(p); got != crlf(want) {
				t.Errorf("part %q, want %q", got, want)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("a third part: %v", err)
		}
	})
}
