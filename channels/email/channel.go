package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/mail"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/handoverhq/handover/channels"
)

// Channel sends email through an SMTP relay over a pool of reused
// connections. It is safe for concurrent use.
type Channel struct {
	cfg        Config
	from       *mail.Address
	fromDomain string
	dialer     *gomail.Client // TLS, AUTH and dialing settings; sessions live in the pool

	idle  chan *conn    // open connections not in use
	slots chan struct{} // one token per open connection
	bufs  sync.Pool     // *bytes.Buffer for composed messages
}

var _ channels.Channel = (*Channel)(nil)

// New checks cfg and returns the channel. It does not connect: connections
// are opened on the first Send and then reused.
func New(cfg Config) (*Channel, error) {
	cfg = cfg.withDefaults()
	r, err := parseRelay(cfg.SMTPURL)
	if err != nil {
		return nil, err
	}
	from, domain, err := parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}
	opts := []gomail.Option{gomail.WithPort(r.port), gomail.WithTimeout(cfg.Timeout),
		gomail.WithDialContextFunc(deadlineDialer(cfg.Timeout, r.implicit, r.host))}
	switch {
	case r.implicit:
		// deadlineDialer does the implicit TLS handshake itself, so no
		// STARTTLS on top of it.
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case r.insecure:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if r.user != "" {
		auth := gomail.SMTPAuthAutoDiscover
		if r.insecure {
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(r.user), gomail.WithPassword(r.pass))
	}
	dialer, err := gomail.NewClient(r.host, opts...)
	if err != nil {
		return nil, errors.New("email: HANDOVER_SMTP_URL: cannot configure the SMTP client")
	}
	return &Channel{
		cfg:        cfg,
		from:       from,
		fromDomain: domain,
		dialer:     dialer,
		idle:       make(chan *conn, cfg.PoolSize),
		slots:      make(chan struct{}, cfg.PoolSize),
		bufs:       sync.Pool{New: func() any { return new(bytes.Buffer) }},
	}, nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return channels.Email }

// Capabilities implements channels.Channel.
func (c *Channel) Capabilities() channels.Capabilities {
	return channels.Capabilities{MaxBatch: 500, Notices: true, Replies: true}
}

// Send implements channels.Channel: up to PoolSize workers each hold one
// pooled connection and send messages one after another on it. A Result's
// ProviderID is the Message-ID without angle brackets, DELIVERYID@domain
// of From.
func (c *Channel) Send(ctx context.Context, msgs []channels.Message) []channels.Result {
	results := make([]channels.Result, len(msgs))
	for i := range msgs {
		results[i].DeliveryID = msgs[i].DeliveryID
	}
	var next atomic.Int64
	workers := min(c.cfg.PoolSize, len(msgs))
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { c.work(ctx, msgs, results, &next) })
	}
	wg.Wait()
	return results
}

// work sends messages msgs[next++] until none are left: a window at a
// time on a connection that offers CHUNKING (sendWindow), else one by one.
func (c *Channel) work(ctx context.Context, msgs []channels.Message, results []channels.Result, next *atomic.Int64) {
	var cn *conn
	defer func() {
		if cn != nil {
			c.release(cn, false)
		}
	}()
	take := func(idx []int, n int) []int {
		for len(idx) < n {
			i := int(next.Add(1)) - 1
			if i >= len(msgs) {
				break
			}
			idx = append(idx, i)
		}
		return idx
	}
	var idx []int
	for {
		if idx = take(idx[:0], 1); len(idx) == 0 {
			return
		}
		if ctx.Err() != nil {
			results[idx[0]].Err = classify(ctx.Err())
			continue
		}
		if cn == nil {
			var err error
			if cn, err = c.acquire(ctx); err != nil {
				// The relay is unreachable: fail the rest rather than dial again
				// for each message.
				c.failRest(idx, results, next, classify(stageErr("dial", err)))
				return
			}
		}
		var err error
		if cn.chunking {
			idx = take(idx, window)
			cn, err = c.sendWindow(ctx, cn, msgs, results, idx)
		} else {
			cn, err = c.sendOne(ctx, cn, &msgs[idx[0]], &results[idx[0]])
		}
		if err != nil {
			c.failRest(nil, results, next, classify(stageErr("dial", err)))
			return
		}
	}
}

// failRest fails the messages idx and every one not yet taken with err.
func (c *Channel) failRest(idx []int, results []channels.Result, next *atomic.Int64, err *channels.SendError) {
	for _, i := range idx {
		results[i].Err = err
	}
	for {
		j := int(next.Add(1)) - 1
		if j >= len(results) {
			return
		}
		results[j].Err = err
	}
}

// sendOne composes and delivers one message on cn, retrying once on a
// fresh connection when a reused one turns out dead before MAIL was
// accepted. It returns the connection to use next (nil after a failed
// redial, with the dial error).
func (c *Channel) sendOne(ctx context.Context, cn *conn, m *channels.Message, res *channels.Result) (*conn, error) {
	buf := c.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer c.bufs.Put(buf)
	env, err := c.compose(m, time.Now(), buf)
	if err != nil {
		res.Err = err
		return cn, nil
	}
	for attempt := 0; ; attempt++ {
		reusable, err := c.deliver(ctx, cn, env)
		if err == nil {
			res.ProviderID = env.messageID
			return cn, nil
		}
		if !reusable {
			c.release(cn, true)
			var dialErr error
			cn, dialErr = c.acquire(ctx)
			if dialErr != nil {
				res.Err = classify(err)
				return nil, dialErr
			}
			if attempt == 0 && staleSession(err) {
				continue
			}
		}
		res.Err = classify(err)
		return cn, nil
	}
}

// staleSession says whether err broke the session before the end of DATA:
// the server cannot have accepted the message, so sending it again on a new
// connection cannot duplicate it. (A reused session the server had dropped
// while idle fails this way.)
func staleSession(err error) bool {
	var se *stageError
	return errors.As(err, &se) && se.stage != "END"
}

// deadlineDialer dials with a deadline on the new connection, so that the
// greeting, EHLO, STARTTLS and AUTH (which go-mail runs without one) cannot
// hang on a server that accepts and then says nothing. deliver moves the
// deadline on for each message.
func deadlineDialer(timeout time.Duration, implicitTLS bool, host string) gomail.DialContextFunc {
	nd := &net.Dialer{Timeout: timeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var conn net.Conn
		var err error
		if implicitTLS {
			conn, err = (&tls.Dialer{NetDialer: nd, Config: &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}}).DialContext(ctx, network, addr)
		} else {
			conn, err = nd.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
			conn.Close()
			return nil, err
		}
		return conn, nil
	}
}
