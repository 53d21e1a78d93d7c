// Package email is the email channel: it sends notices and replies over a
// pool of reused SMTP connections (go-mail's client dials, STARTTLS and
// AUTH), and receives customers' replies and bounce reports on its own SMTP
// listener (go-smtp), addressed to per-delivery reply addresses such as
// r-DELIVERYID@reply.example.com.
//
// Messages are composed with the standard library's mime packages
// (compose.go): text and HTML parts in base64 when mostly Chinese, else
// quoted-printable. Each message goes out in one write when the relay
// offers PIPELINING and CHUNKING (MAIL, RCPT and BDAT LAST with the
// message: one round trip, no dot-stuffing), else with pipelined MAIL,
// RCPT and DATA, else one command at a time.
package email

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults applied by New.
const (
	DefaultPoolSize = 4
	DefaultTimeout  = 15 * time.Second
)

// Config configures the email channel.
type Config struct {
	// SMTPURL (HANDOVER_SMTP_URL) is the outbound relay:
	// smtp://user:pass@host:587 (STARTTLS required), smtps://user:pass@host:465
	// (implicit TLS), or smtp+insecure://host:port (plain text, for local and
	// development servers only).
	SMTPURL string
	// From (HANDOVER_EMAIL_FROM) is the sender, e.g. "Company <notice@example.com>".
	From string
	// ReplyDomain is the domain of per-delivery reply addresses
	// (r-DELIVERYID@ReplyDomain), whose MX points at the Listener. When set,
	// it is also the envelope sender of outbound mail, so bounces come back
	// to the Listener carrying the delivery id.
	ReplyDomain string
	// PoolSize is how many SMTP connections are kept open (default 4).
	PoolSize int
	// Timeout bounds dialing and each SMTP exchange (default 15 s).
	Timeout time.Duration
}

// relay is the parsed SMTPURL.
type relay struct {
	host       string
	port       int
	implicit   bool // smtps: TLS from the first byte
	insecure   bool // smtp+insecure: no TLS at all
	user, pass string
}

func parseRelay(raw string) (relay, error) {
	if raw == "" {
		return relay{}, errors.New("email: HANDOVER_SMTP_URL is not set")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url's error repeats the URL, password included.
		return relay{}, errors.New("email: HANDOVER_SMTP_URL is not a valid URL")
	}
	r := relay{host: u.Hostname()}
	switch u.Scheme {
	case "smtp":
		r.port = 587
	case "smtps":
		r.port, r.implicit = 465, true
	case "smtp+insecure":
		r.port, r.insecure = 25, true
	default:
		return relay{}, fmt.Errorf("email: HANDOVER_SMTP_URL scheme %q is not smtp, smtps or smtp+insecure", u.Scheme)
	}
	if r.host == "" {
		return relay{}, errors.New("email: HANDOVER_SMTP_URL has no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return relay{}, errors.New("email: HANDOVER_SMTP_URL has an invalid port")
		}
		r.port = n
	}
	if u.User != nil {
		r.user = u.User.Username()
		r.pass, _ = u.User.Password()
	}
	return r, nil
}

// parseFrom checks HANDOVER_EMAIL_FROM and returns the address and its domain.
func parseFrom(from string) (*mail.Address, string, error) {
	if from == "" {
		return nil, "", errors.New("email: HANDOVER_EMAIL_FROM is not set")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, "", fmt.Errorf("email: HANDOVER_EMAIL_FROM is not an address like \"Company <notice@example.com>\": %v", err)
	}
	at := strings.LastIndexByte(addr.Address, '@')
	if at < 1 || at == len(addr.Address)-1 {
		return nil, "", errors.New("email: HANDOVER_EMAIL_FROM has no domain")
	}
	return addr, strings.ToLower(addr.Address[at+1:]), nil
}

func (cfg Config) withDefaults() Config {
	if cfg.PoolSize <= 0 {
		cfg.PoolSize = DefaultPoolSize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	cfg.ReplyDomain = strings.ToLower(strings.TrimSpace(cfg.ReplyDomain))
	return cfg
}
