// Package smtptest runs an in-process SMTP server that accepts mail and
// keeps it for assertions: the email channel's tests, and any test that
// sends mail through it, point Config.SMTPURL at Sink.URL().
package smtptest

import (
	"io"
	"log"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Sink is an SMTP server on 127.0.0.1 that accepts everything (no TLS),
// unless told to refuse some recipients or messages. It is safe for
// concurrent use.
type Sink struct {
	server *smtp.Server
	addr   string

	messages    atomic.Int64
	connections atomic.Int64

	mu         sync.Mutex
	user, pass string
	keep       bool
	received   []Message
	rejects    map[string]*smtp.SMTPError
	failNext   int
	failReply  *smtp.SMTPError
	open       map[*smtp.Conn]struct{}
	delay      time.Duration
}

// New starts a Sink on a free loopback port; it stops when the test ends.
func New(t testing.TB) *Sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Sink{addr: ln.Addr().String(), keep: true, rejects: map[string]*smtp.SMTPError{}, open: map[*smtp.Conn]struct{}{}}
	s.server = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.server.Domain = "sink.test"
	s.server.AllowInsecureAuth = true
	s.server.ErrorLog = log.New(io.Discard, "", 0)
	go func() { _ = s.server.Serve(ln) }()
	t.Cleanup(func() { _ = s.server.Close() })
	return s
}

// Addr is the sink's host:port.
func (s *Sink) Addr() string { return s.addr }

// URL is the SMTP URL to put in the email channel's Config.SMTPURL
// (smtp+insecure://, with the credentials set by RequireAuth).
func (s *Sink) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := url.URL{Scheme: "smtp+insecure", Host: s.addr}
	if s.user != "" {
		u.User = url.UserPassword(s.user, s.pass)
	}
	return u.String()
}

// RequireAuth makes the sink offer AUTH PLAIN and refuse MAIL until a
// client has logged in with user and pass.
func (s *Sink) RequireAuth(user, pass string) {
	s.mu.Lock()
	s.user, s.pass = user, pass
	s.mu.Unlock()
}

// KeepMessages says whether accepted messages are kept (the default) or
// only counted, which benchmarks prefer.
func (s *Sink) KeepMessages(keep bool) {
	s.mu.Lock()
	s.keep = keep
	s.mu.Unlock()
}

// Reject makes the sink answer RCPT TO for rcpt (case-insensitive) with
// code and text; text may start with an enhanced status code, as in
// Reject(addr, 550, "5.1.1 User unknown").
func (s *Sink) Reject(rcpt string, code int, text string) {
	s.mu.Lock()
	s.rejects[strings.ToLower(rcpt)] = reply(code, text)
	s.mu.Unlock()
}

// FailNext makes the sink answer the end of DATA for the next n messages
// with code and text (see Reject), instead of accepting them.
func (s *Sink) FailNext(n, code int, text string) {
	s.mu.Lock()
	s.failNext, s.failReply = n, reply(code, text)
	s.mu.Unlock()
}

// SetDelay makes every message take d to accept after its data arrived,
// as a slow relay does.
func (s *Sink) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Count is how many messages were accepted.
func (s *Sink) Count() int { return int(s.messages.Load()) }

// Connections is how many SMTP connections were opened.
func (s *Sink) Connections() int { return int(s.connections.Load()) }

// Messages returns the kept messages in the order they were accepted.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.received...)
}

// Reset forgets kept messages, counts, rejections and failures.
func (s *Sink) Reset() {
	s.mu.Lock()
	s.received, s.rejects, s.failNext, s.failReply = nil, map[string]*smtp.SMTPError{}, 0, nil
	s.mu.Unlock()
	s.messages.Store(0)
	s.connections.Store(0)
}

// reply makes an SMTP error from a code and a text that may begin with an
// enhanced status code.
func reply(code int, text string) *smtp.SMTPError {
	e := &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text}
	first, rest, _ := strings.Cut(text, " ")
	if parts := strings.Split(first, "."); len(parts) == 3 {
		var ec smtp.EnhancedCode
		ok := true
		for i, p := range parts {
			n, err := strconv.Atoi(p)
			ok = ok && err == nil
			ec[i] = n
		}
		if ok {
			e.EnhancedCode, e.Message = ec, rest
		}
	}
	return e
}

// DropConnections closes every open client connection, as a server does
// with idle sessions; the sink keeps listening.
func (s *Sink) DropConnections() {
	s.mu.Lock()
	conns := make([]*smtp.Conn, 0, len(s.open))
	for c := range s.open {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close() // calls Logout, which takes s.mu
	}
}

func (s *Sink) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.connections.Add(1)
	s.mu.Lock()
	s.open[c] = struct{}{}
	s.mu.Unlock()
	return &session{sink: s, conn: c}, nil
}

// session is one client connection.
type session struct {
	sink   *Sink
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	if ss.sink.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		ss.sink.mu.Lock()
		ok := user == ss.sink.user && pass == ss.sink.pass
		ss.sink.mu.Unlock()
		if !ok {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.sink.mu.Lock()
	needAuth := ss.sink.user != ""
	ss.sink.mu.Unlock()
	if needAuth && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	rej := ss.sink.rejects[strings.ToLower(to)]
	ss.sink.mu.Unlock()
	if rej != nil {
		return rej
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s := ss.sink
	s.mu.Lock()
	delay := s.delay
	s.mu.Unlock()
	time.Sleep(delay)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failNext > 0 {
		s.failNext--
		return s.failReply
	}
	s.messages.Add(1)
	if s.keep {
		s.received = append(s.received, Message{From: ss.from, To: ss.to, Data: data})
	}
	return nil
}

func (ss *session) Reset() { ss.from, ss.to = "", nil }
func (ss *session) Logout() error {
	ss.sink.mu.Lock()
	delete(ss.sink.open, ss.conn)
	ss.sink.mu.Unlock()
	return nil
}
