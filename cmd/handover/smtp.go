package main

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/handoverhq/handover/channels/email"
)

// startInboundSMTP starts the listener for email replies and bounces when
// HANDOVER_SMTP_INBOUND_ADDR is set; the returned stop func closes it.
func (m *Main) startInboundSMTP() (stop func(), err error) {
	addr := m.Config.Channels.SMTPInboundAddr
	if addr == "" {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("inbound SMTP on %s (HANDOVER_SMTP_INBOUND_ADDR): %w", addr, err)
	}
	var tlsConfig *tls.Config
	if cc := m.Config.Channels; cc.SMTPInboundTLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cc.SMTPInboundTLSCert, cc.SMTPInboundTLSKey)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("inbound SMTP TLS (HANDOVER_SMTP_INBOUND_TLS_CERT, _KEY): %w", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	l := email.NewListener(addr, m.EmailConfig(), tlsConfig, m.Inbox.Record, m.Log)
	go func() {
		if err := l.Serve(ln); err != nil {
			m.Log.Error("inbound SMTP stopped", "err", err)
		}
	}()
	return func() { l.Close() }, nil
}
