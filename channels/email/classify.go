package email

import (
	"context"
	"errors"
	"net"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/handoverhq/handover/channels"
)

// rateLimitRetry is how long to wait after a rate-limit reply that gave no
// better hint.
const rateLimitRetry = time.Minute

// stageError is a failure at one step of the SMTP session. Its text may
// hold the server's reply, which can name the recipient: it is classified,
// never returned.
type stageError struct {
	stage string // dial, conn, MAIL, RCPT, DATA, END
	err   error
}

func stageErr(stage string, err error) error { return &stageError{stage: stage, err: err} }

func (e *stageError) Error() string { return e.stage + ": " + e.err.Error() }
func (e *stageError) Unwrap() error { return e.err }

var (
	enhancedRe = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})\b`)
	rateRe     = regexp.MustCompile(`(?i)\brate\b|rate[- ]?limit|too many|throttl`)
)

// classify turns a delivery failure into a *channels.SendError whose code
// and message carry the SMTP reply code and step, never the reply text.
func classify(err error) *channels.SendError {
	stage := "conn"
	var se *stageError
	if errors.As(err, &se) {
		stage = se.stage
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		return classifyReply(stage, reply)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return channels.Errorf(channels.Transient, "canceled", "send canceled")
	case errors.Is(err, context.DeadlineExceeded):
		return channels.Errorf(channels.Transient, "timeout", "SMTP %s timed out", stage)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return channels.Errorf(channels.Transient, "timeout", "SMTP %s timed out", stage)
	}
	return channels.Errorf(channels.Transient, "conn", "SMTP connection failed at %s", stage)
}

func classifyReply(stage string, reply *textproto.Error) *channels.SendError {
	code := strconv.Itoa(reply.Code)
	enhanced := ""
	if m := enhancedRe.FindStringSubmatch(strings.TrimSpace(reply.Msg)); m != nil {
		enhanced = m[0]
		code += " " + enhanced
	}
	msg := "SMTP server answered " + strconv.Itoa(reply.Code) + " to " + stage
	switch {
	case (reply.Code == 421 || reply.Code == 450 || reply.Code == 451) && rateRe.MatchString(reply.Msg):
		e := channels.Errorf(channels.RateLimited, code, "%s (rate limited)", msg)
		e.RetryAfter = rateLimitRetry
		return e
	case reply.Code >= 400 && reply.Code < 500:
		return channels.Errorf(channels.Transient, code, "%s", msg)
	case stage == "dial" && reply.Code == 535:
		return channels.Errorf(channels.Permanent, code, "SMTP authentication failed")
	case recipientInvalid(stage, reply.Code, enhanced):
		return channels.Errorf(channels.RecipientInvalid, code, "%s (recipient rejected)", msg)
	case reply.Code >= 500:
		return channels.Errorf(channels.Permanent, code, "%s", msg)
	}
	return channels.Errorf(channels.Transient, code, "%s (unexpected reply)", msg)
}

// recipientInvalid says whether a 5xx reply is about the mailbox: 550/551/553
// to RCPT, or an enhanced status naming a bad address or disabled mailbox
// (RFC 3463: 5.1.1 bad mailbox, 5.1.2 bad domain, 5.1.3 bad syntax,
// 5.1.6 moved, 5.1.10 null MX, 5.2.1 disabled) at any step.
func recipientInvalid(stage string, code int, enhanced string) bool {
	switch enhanced {
	case "5.1.1", "5.1.2", "5.1.3", "5.1.6", "5.1.10", "5.2.1":
		return true
	}
	return stage == "RCPT" && (code == 550 || code == 551 || code == 553) &&
		!strings.HasPrefix(enhanced, "5.7.")
}
