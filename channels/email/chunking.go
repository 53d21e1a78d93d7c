package email

import (
	"bytes"
	"context"
	"strconv"
	"time"

	"github.com/handoverhq/handover/channels"
)

// window is how many messages one connection carries in one write when the
// relay offers PIPELINING and CHUNKING. Each transaction is RSET, MAIL,
// RCPT and "BDAT n LAST" followed by the message as it is: RFC 2920 lets
// BDAT sit inside a pipelined group and RFC 3030 lets the next MAIL follow
// a BDAT LAST, so a window costs one write and its replies one or a few
// reads, with no dot-stuffing on either side. RSET first puts a session
// left mid-transaction by a refused MAIL or RCPT back in step. If the
// session breaks after the window went out, whether its messages were
// accepted is unknown: at most this many can be sent twice.
const window = 16

// sendWindow composes msgs[idx...] and sends them on cn as one window,
// once more on a fresh connection when the server dropped cn without
// reading a byte of it. It returns the connection to use next (nil after a
// failed redial, with the dial error).
func (c *Channel) sendWindow(ctx context.Context, cn *conn, msgs []channels.Message, results []channels.Result, idx []int) (*conn, error) {
	envs := make([]envelope, 0, len(idx))
	owners := make([]int, 0, len(idx))
	now := time.Now()
	for _, i := range idx {
		buf := c.bufs.Get().(*bytes.Buffer)
		buf.Reset()
		defer c.bufs.Put(buf)
		env, err := c.compose(&msgs[i], now, buf)
		if err != nil {
			results[i].Err = err
			continue
		}
		envs, owners = append(envs, env), append(owners, i)
	}
	if len(envs) == 0 {
		return cn, nil
	}
	for attempt := 0; ; attempt++ {
		errs, reusable, unread := c.deliverWindow(ctx, cn, envs)
		var dialErr error
		if !reusable {
			c.release(cn, true)
			cn, dialErr = c.acquire(ctx)
			if dialErr == nil && unread && attempt == 0 {
				continue
			}
		}
		for k, i := range owners {
			if errs[k] != nil {
				results[i].Err = classify(errs[k])
			} else {
				results[i].ProviderID = envs[k].messageID
			}
		}
		return cn, dialErr
	}
}

// deliverWindow writes envs' transactions in one write and reads their
// replies in order. errs holds each message's outcome; unread says the
// session broke before the server can have read any of them (nothing was
// written, or no reply came at all), so sending them again cannot
// duplicate one.
func (c *Channel) deliverWindow(ctx context.Context, cn *conn, envs []envelope) (errs []error, reusable, unread bool) {
	errs = make([]error, len(envs))
	fail := func(from int, stage string, err error) {
		for k := from; k < len(envs); k++ {
			errs[k] = stageErr(stage, err)
		}
	}
	timeout := c.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(dl))
	}
	if timeout <= 0 {
		fail(0, "MAIL", context.DeadlineExceeded)
		return errs, true, false
	}
	if err := cn.client.UpdateDeadline(timeout); err != nil {
		fail(0, "conn", err)
		return errs, false, false
	}
	out := c.bufs.Get().(*bytes.Buffer)
	out.Reset()
	defer c.bufs.Put(out)
	for _, env := range envs {
		data := env.data.Bytes()
		out.WriteString("RSET\r\nMAIL FROM:<" + env.from + ">\r\nRCPT TO:<" + env.rcpt + ">\r\nBDAT " + strconv.Itoa(len(data)) + " LAST\r\n")
		out.Write(data)
	}
	text := cn.client.Text
	n, err := text.W.Write(out.Bytes())
	if err == nil {
		err = text.W.Flush()
	}
	if err != nil {
		// What the connection took: the bufio.Writer keeps what it could
		// not write.
		if n-text.W.Buffered() <= 0 {
			fail(0, "MAIL", err)
			return errs, false, true
		}
		fail(0, "END", err)
		return errs, false, false
	}
	replies := [...]command{{"RSET", "", 250}, {"MAIL", "", 250}, {"RCPT", "", 25}, {"END", "", 250}}
	for k := range envs {
		for r, want := range replies {
			_, _, err := text.ReadResponse(want.code)
			switch {
			case err != nil && !isReply(err):
				if k == 0 && r == 0 {
					fail(0, "MAIL", err)
					return errs, false, true
				}
				// Replies already read stand; the rest are unknown.
				if errs[k] == nil {
					errs[k] = stageErr("END", err)
				}
				fail(k+1, "END", err)
				return errs, false, false
			case err != nil && errs[k] == nil:
				errs[k] = stageErr(want.stage, err)
			}
		}
	}
	return errs, true, false
}
