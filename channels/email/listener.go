package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/handoverhq/handover/channels"
)

// Listener limits.
const (
	MaxInboundBytes = 10 << 20 // larger messages are refused with 552
	maxRecipients   = 20
	inboundTimeout  = 2 * time.Minute // read and write deadlines per command
	recordTimeout   = 30 * time.Second
)

// Listener is the SMTP server (HANDOVER_SMTP_INBOUND_ADDR) that receives
// replies and bounces addressed to the reply domain. It answers 250 only
// after the events are recorded, 451 when recording fails (the sender
// retries), 550 for addresses outside the reply domain.
type Listener struct {
	server *smtp.Server
	domain string
	record channels.RecordFunc
	log    *slog.Logger
}

// NewListener returns a Listener for addr (e.g. "127.0.0.1:2525") that
// accepts mail for cfg.ReplyDomain and passes events to record. With
// tlsConfig it offers STARTTLS, so sending servers that prefer encryption
// (most do) deliver replies encrypted; nil serves plain SMTP only.
func NewListener(addr string, cfg Config, tlsConfig *tls.Config, record channels.RecordFunc, log *slog.Logger) *Listener {
	if log == nil {
		log = slog.Default()
	}
	cfg = cfg.withDefaults()
	l := &Listener{domain: cfg.ReplyDomain, record: record, log: log}
	s := smtp.NewServer(l)
	s.Addr = addr
	s.Domain = cfg.ReplyDomain
	s.MaxMessageBytes = MaxInboundBytes
	s.MaxRecipients = maxRecipients
	s.ReadTimeout = inboundTimeout
	s.WriteTimeout = inboundTimeout
	s.ErrorLog = slogPrinter{log}
	s.TLSConfig = tlsConfig
	l.server = s
	return l
}

// ListenAndServe listens on the configured address and serves until Close.
func (l *Listener) ListenAndServe() error { return l.filterClosed(l.server.ListenAndServe()) }

// Serve serves connections from ln until Close.
func (l *Listener) Serve(ln net.Listener) error { return l.filterClosed(l.server.Serve(ln)) }

// Close stops listening and closes open connections.
func (l *Listener) Close() error { return l.server.Close() }

func (l *Listener) filterClosed(err error) error {
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// NewSession implements smtp.Backend.
func (l *Listener) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{l: l}, nil
}

// session is one SMTP transaction at a time on one connection.
type session struct {
	l     *Listener
	from  string
	rcpts []string
}

var (
	errNoMailbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errMalformed = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message could not be parsed"}
	errNotStored = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Message not stored, try again later"}
)

func (s *session) Reset()        { s.from, s.rcpts = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !atDomain(to, s.l.domain) {
		return errNoMailbox
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

// Data parses the message and records one event per recipient before the
// server answers.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err // ErrDataTooLarge (552) or a broken connection
	}
	ev, err := ParseInbound(bytes.NewReader(raw), s.from, s.rcpts[0], s.l.domain)
	if errors.Is(err, ErrNothingToRecord) {
		s.l.log.Info("email: inbound notice ignored")
		return nil
	}
	if err != nil {
		s.l.log.Warn("email: inbound message rejected", "err", err)
		return errMalformed
	}
	ev.OccurredAt = time.Now()
	events := []channels.InboundEvent{ev}
	for _, rcpt := range s.rcpts[1:] {
		e := ev
		e.To = strings.ToLower(rcpt)
		if id, ok := DeliveryIDFromAddress(rcpt, s.l.domain); ok && e.Kind == channels.EventMessage {
			e.DeliveryID = id
		}
		e.DedupKey = clip(ev.DedupKey+"/"+e.To, 255)
		events = append(events, e)
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	n, err := s.l.record(ctx, events)
	if err != nil {
		s.l.log.Error("email: recording inbound event failed", "kind", string(ev.Kind), "delivery_id", ev.DeliveryID, "err", err)
		return errNotStored
	}
	s.l.log.Info("email: inbound recorded", "kind", string(ev.Kind), "delivery_id", ev.DeliveryID, "new", n)
	return nil
}

// slogPrinter routes go-smtp's internal error log to slog.
type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.log.Warn("email: smtp server", "detail", format)
}
func (p slogPrinter) Println(v ...any) { p.log.Warn("email: smtp server") }
