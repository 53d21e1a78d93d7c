package email

import (
	"context"
	"net/textproto"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// idleCheck is how long a pooled connection may sit unused before it is
// checked with NOOP: servers drop idle sessions after a few minutes.
const idleCheck = 30 * time.Second

// conn is one pooled SMTP session, used by one goroutine at a time.
type conn struct {
	client     *smtp.Client
	pipelining bool
	chunking   bool // RFC 3030 BDAT, used only with pipelining
	lastUsed   time.Time
}

// acquire takes an idle connection or dials a new one while fewer than
// PoolSize are open.
func (c *Channel) acquire(ctx context.Context) (*conn, error) {
	select {
	case cn := <-c.idle:
		return c.freshen(ctx, cn)
	default:
	}
	select {
	case cn := <-c.idle:
		return c.freshen(ctx, cn)
	case c.slots <- struct{}{}:
		cn, err := c.dial(ctx)
		if err != nil {
			<-c.slots
			return nil, err
		}
		return cn, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// freshen checks a connection that sat idle long enough to have been
// dropped by the server, replacing it when it was.
func (c *Channel) freshen(ctx context.Context, cn *conn) (*conn, error) {
	if time.Since(cn.lastUsed) < idleCheck {
		return cn, nil
	}
	if err := cn.client.UpdateDeadline(c.cfg.Timeout); err == nil {
		if err := cn.client.Noop(); err == nil {
			return cn, nil
		}
	}
	_ = cn.client.Close()
	cn, err := c.dial(ctx)
	if err != nil {
		<-c.slots
		return nil, err
	}
	return cn, nil
}

func (c *Channel) dial(ctx context.Context) (*conn, error) {
	client, err := c.dialer.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, err
	}
	pipelining, _ := client.Extension("PIPELINING")
	chunking, _ := client.Extension("CHUNKING")
	return &conn{client: client, pipelining: pipelining, chunking: pipelining && chunking, lastUsed: time.Now()}, nil
}

// release returns a healthy connection to the pool, or closes a broken one
// and frees its slot.
func (c *Channel) release(cn *conn, broken bool) {
	if broken {
		_ = cn.client.Close()
		<-c.slots
		return
	}
	cn.lastUsed = time.Now()
	c.idle <- cn // never blocks: at most PoolSize connections exist
}

// Close ends the idle pooled connections politely (QUIT). Connections in
// use by a running Send are closed when it returns them broken, or are
// closed here on a later call.
func (c *Channel) Close() error {
	for {
		select {
		case cn := <-c.idle:
			_ = cn.client.Quit()
			<-c.slots
		default:
			return nil
		}
	}
}

// deliver runs one SMTP transaction on cn within Timeout and ctx's
// deadline. reusable says whether cn can carry the next message.
func (c *Channel) deliver(ctx context.Context, cn *conn, env envelope) (reusable bool, err error) {
	timeout := c.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		return true, stageErr("MAIL", context.DeadlineExceeded)
	}
	if err := cn.client.UpdateDeadline(timeout); err != nil {
		return false, stageErr("conn", err)
	}
	if reusable, err := cn.open(env.from, env.rcpt); err != nil {
		return reusable, err
	}
	text := cn.client.Text
	dw := text.DotWriter()
	if _, err := dw.Write(env.data.Bytes()); err != nil {
		return false, stageErr("DATA", err)
	}
	if err := dw.Close(); err != nil {
		return false, stageErr("DATA", err)
	}
	if _, _, err := text.ReadResponse(250); err != nil {
		return isReply(err), stageErr("END", err)
	}
	return true, nil
}

// command is one SMTP command and the reply code that means success.
type command struct {
	stage, line string
	code        int
}

// open sends MAIL, RCPT and DATA. With PIPELINING (RFC 2920) the three go
// out in one write and their replies are read in order: two round trips
// per message instead of four.
func (cn *conn) open(from, rcpt string) (reusable bool, err error) {
	cmds := [...]command{
		{"MAIL", "MAIL FROM:<" + from + ">", 250},
		{"RCPT", "RCPT TO:<" + rcpt + ">", 25},
		{"DATA", "DATA", 354},
	}
	text := cn.client.Text
	if !cn.pipelining {
		for _, cmd := range cmds {
			_, _ = text.W.WriteString(cmd.line + "\r\n")
			if err := text.W.Flush(); err != nil {
				return false, stageErr(cmd.stage, err)
			}
			if _, _, err := text.ReadResponse(cmd.code); err != nil {
				return isReply(err) && cn.client.Reset() == nil, stageErr(cmd.stage, err)
			}
		}
		return true, nil
	}
	for _, cmd := range cmds {
		_, _ = text.W.WriteString(cmd.line + "\r\n") // a write error shows at Flush
	}
	if err := text.W.Flush(); err != nil {
		return false, stageErr("MAIL", err)
	}
	var first error
	for i, cmd := range cmds {
		_, _, err := text.ReadResponse(cmd.code)
		switch {
		case err != nil && !isReply(err):
			if first != nil {
				return false, first
			}
			return false, stageErr(cmd.stage, err)
		case err != nil && first == nil:
			first = stageErr(cmd.stage, err)
		case err == nil && i == len(cmds)-1 && first != nil:
			// 354 despite a refused MAIL or RCPT: end the empty message
			// at once; RSET below discards it.
			_, _ = text.W.WriteString(".\r\n")
			if text.W.Flush() != nil {
				return false, first
			}
			_, _, _ = text.ReadResponse(250)
		}
	}
	if first != nil {
		return cn.client.Reset() == nil, first
	}
	return true, nil
}

// isReply reports whether err is an SMTP reply (the session is still in
// step) rather than an I/O failure.
func isReply(err error) bool {
	_, ok := err.(*textproto.Error)
	return ok
}
