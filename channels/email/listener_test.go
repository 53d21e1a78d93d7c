package email_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/smtp"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/email"
)

// inbox stands in for (*channels.Inbox).Record: it keeps events, or fails.
type inbox struct {
	mu     sync.Mutex
	events []channels.InboundEvent
	fail   bool
}

func (in *inbox) record(_ context.Context, events []channels.InboundEvent) (int, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.fail {
		return 0, errors.New("database unavailable")
	}
	in.events = append(in.events, events...)
	return len(events), nil
}

func (in *inbox) take() []channels.InboundEvent {
	in.mu.Lock()
	defer in.mu.Unlock()
	ev := in.events
	in.events = nil
	return ev
}

// startListener serves a Listener for reply.example.com on a free port.
func startListener(t *testing.T) (string, *inbox) {
	t.Helper()
	return startListenerTLS(t, nil)
}

// startListenerTLS is startListener offering STARTTLS with tlsConfig.
func startListenerTLS(t *testing.T, tlsConfig *tls.Config) (string, *inbox) {
	t.Helper()
	in := &inbox{}
	var logs bytes.Buffer
	l := email.NewListener("", email.Config{ReplyDomain: "reply.example.com"}, tlsConfig, in.record, slog.New(slog.NewTextHandler(&logs, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.Serve(ln) }()
	t.Cleanup(func() {
		l.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if strings.Contains(logs.String(), "@") {
			t.Errorf("log names an address:\n%s", logs.String())
		}
	})
	return ln.Addr().String(), in
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func TestListenerRecordsReplies(t *testing.T) {
	addr, in := startListener(t)
	tests := []struct{ file, from, rcpt, id, text string }{
		{"reply_gbk.eml", "li.lei@customer.example", "r-01HXREPLYGBK000000000001@reply.example.com", "01HXREPLYGBK000000000001", "好的，我同意转移，谢谢。\n请尽快办理。\n\n李雷"},
		{"reply_qp_utf8.eml", "han.meimei@gmail.example", "r-01HXREPLYQP0000000000001@reply.example.com", "01HXREPLYQP0000000000001", "Yes, please go ahead — 可以转移。\nThanks!"},
		{"reply_html_only.eml", "wang@customer.example", "r-01HXREPLYHTML00000000001@reply.example.com", "01HXREPLYHTML00000000001", "收到 & 确认，谢谢！\n王先生"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if err := smtp.SendMail(addr, nil, tt.from, []string{tt.rcpt}, fixture(t, tt.file)); err != nil {
				t.Fatal(err)
			}
			got := in.take()
			if len(got) != 1 {
				t.Fatalf("recorded %d events", len(got))
			}
			ev := got[0]
			if ev.Channel != channels.Email || ev.Kind != channels.EventMessage || ev.DeliveryID != tt.id ||
				ev.Text != tt.text || ev.From.Email != tt.from || ev.OccurredAt.IsZero() || ev.DedupKey == "" {
				t.Errorf("event = %+v", ev)
			}
		})
	}
}

func TestListenerRecordsBounce(t *testing.T) {
	addr, in := startListener(t)
	if err := smtp.SendMail(addr, nil, "", []string{"r-01HXBOUNCE00000000000001@reply.example.com"}, fixture(t, "bounce_dsn.eml")); err != nil {
		t.Fatal(err)
	}
	got := in.take()
	if len(got) != 1 || got[0].Kind != channels.EventBounce || got[0].Status != channels.StatusBounced ||
		got[0].ErrorCode != "5.1.1" || got[0].DeliveryID != "01HXBOUNCE00000000000001" {
		t.Fatalf("events = %+v", got)
	}
	// A delay notice is accepted and not recorded.
	if err := smtp.SendMail(addr, nil, "", []string{"r-01HXDELAYED0000000000001@reply.example.com"}, fixture(t, "dsn_delayed.eml")); err != nil {
		t.Fatal(err)
	}
	if got := in.take(); len(got) != 0 {
		t.Errorf("delay notice recorded: %+v", got)
	}
}

func TestListenerOneEventPerReplyAddress(t *testing.T) {
	addr, in := startListener(t)
	rcpts := []string{"r-01HXREPLYGBK000000000001@reply.example.com", "r-01HXOTHER00000000000001@reply.example.com"}
	if err := smtp.SendMail(addr, nil, "li.lei@customer.example", rcpts, fixture(t, "reply_gbk.eml")); err != nil {
		t.Fatal(err)
	}
	got := in.take()
	if len(got) != 2 || got[0].DeliveryID != "01HXREPLYGBK000000000001" || got[1].DeliveryID != "01HXOTHER00000000000001" ||
		got[0].DedupKey == got[1].DedupKey {
		t.Errorf("events = %+v", got)
	}
}

func TestListenerRefuses(t *testing.T) {
	addr, in := startListener(t)
	reply := fixture(t, "reply_gbk.eml")

	err := smtp.SendMail(addr, nil, "li.lei@customer.example", []string{"someone@elsewhere.example"}, reply)
	if smtpCode(err) != 550 {
		t.Errorf("foreign domain: %v, want 550", err)
	}

	big := append(append([]byte{}, reply...), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), email.MaxInboundBytes/64+16)...)
	err = smtp.SendMail(addr, nil, "li.lei@customer.example", []string{"r-01HXBIG@reply.example.com"}, big)
	if smtpCode(err) != 552 {
		t.Errorf("oversized: %v, want 552", err)
	}

	in.mu.Lock()
	in.fail = true
	in.mu.Unlock()
	err = smtp.SendMail(addr, nil, "li.lei@customer.example", []string{"r-01HXREPLYGBK000000000001@reply.example.com"}, reply)
	if smtpCode(err) != 451 {
		t.Errorf("record failure: %v, want 451", err)
	}
	if got := in.take(); len(got) != 0 {
		t.Errorf("recorded %+v", got)
	}
}

func TestListenerReplyOverOpenSession(t *testing.T) {
	// A client driving the session itself, CRLF lines, quoted reply.
	addr, in := startListener(t)
	quoted := "From: Li Lei <li.lei@customer.example>\r\nTo: r-01HXE2E@reply.example.com\r\nSubject: Re: x\r\nMessage-ID: <e2e@customer.example>\r\n\r\nOK\r\n\r\nOn Mon, 6 May 2024, Handover wrote:\r\n> Hello\r\n"
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("li.lei@customer.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("r-01HXE2E@reply.example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, quoted)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if got := in.take(); len(got) != 1 || got[0].Text != "OK" || got[0].DeliveryID != "01HXE2E" {
		t.Errorf("events = %+v", got)
	}
}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reply.example.com"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// With a certificate the listener offers STARTTLS and takes a reply over it.
func TestListenerSTARTTLS(t *testing.T) {
	cert, pool := selfSigned(t)
	addr, in := startListenerTLS(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not offered")
	}
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if state, ok := c.TLSConnectionState(); !ok || !state.HandshakeComplete {
		t.Fatal("no TLS after STARTTLS")
	}
	if err := c.Mail("li.lei@customer.example"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("r-01HXREPLYGBK000000000001@reply.example.com"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	w.Write(fixture(t, "reply_gbk.eml"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	c.Quit()
	if got := in.take(); len(got) != 1 || got[0].DeliveryID != "01HXREPLYGBK000000000001" {
		t.Fatalf("events over TLS = %+v", got)
	}
}
