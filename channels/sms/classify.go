package sms

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	sdkerrors "github.com/aliyun/alibaba-cloud-sdk-go/sdk/errors"

	"github.com/handoverhq/handover/channels"
)

// Codes Aliyun answers (HTTP 200 with Code != "OK", or in the body of a
// 4xx) and how to handle them. Codes not listed are Transient.
var codeClasses = map[string]channels.Class{
	"isv.BUSINESS_LIMIT_CONTROL": channels.RateLimited, // per-number minute/hour/day limit
	"isv.DAY_LIMIT_CONTROL":      channels.RateLimited, // account daily limit

	"isv.MOBILE_NUMBER_ILLEGAL":   channels.RecipientInvalid,
	"isv.MOBILE_COUNT_OVER_LIMIT": channels.RecipientInvalid,

	"isv.SMS_TEMPLATE_ILLEGAL":        channels.Permanent,
	"isv.SMS_SIGNATURE_ILLEGAL":       channels.Permanent,
	"isv.SMS_SIGN_ILLEGAL":            channels.Permanent,
	"isv.TEMPLATE_MISSING_PARAMETERS": channels.Permanent,
	"isv.TEMPLATE_PARAMS_ILLEGAL":     channels.Permanent,
	"isv.INVALID_JSON_PARAM":          channels.Permanent,
	"isv.INVALID_PARAMETERS":          channels.Permanent,
	"isv.PARAM_LENGTH_LIMIT":          channels.Permanent,
	"isv.BLACK_KEY_CONTROL_LIMIT":     channels.Permanent,
	"isv.AMOUNT_NOT_ENOUGH":           channels.Permanent,
	"isv.OUT_OF_SERVICE":              channels.Permanent,
	"isv.PRODUCT_UN_SUBSCRIPT":        channels.Permanent,
	"isv.PRODUCT_UNSUBSCRIBE":         channels.Permanent,
	"isv.ACCOUNT_NOT_EXISTS":          channels.Permanent,
	"isv.ACCOUNT_ABNORMAL":            channels.Permanent,
	"isp.RAM_PERMISSION_DENY":         channels.Permanent,
	"InvalidAccessKeyId.NotFound":     channels.Permanent,
	"InvalidAccessKeyId.Inactive":     channels.Permanent,
	"SignatureDoesNotMatch":           channels.Permanent,
}

// Waits for rate-limited sends.
const (
	throttleWait = time.Second // account QPS throttling clears fast
	minuteWait   = time.Minute
	hourWait     = time.Hour
)

// china is Beijing time, where Aliyun's daily limits reset at midnight.
var china = time.FixedZone("CST", 8*3600)

// classifyCode maps a business code to a *SendError; nil for "OK".
func classifyCode(action, code, msg string) error {
	if code == "OK" {
		return nil
	}
	return codeError(action, code, msg, time.Now())
}

func codeError(action, code, msg string, now time.Time) *channels.SendError {
	class, ok := codeClasses[code]
	switch {
	case ok:
	case strings.HasPrefix(code, "Throttling"):
		class = channels.RateLimited
	default:
		class = channels.Transient
	}
	e := channels.Errorf(class, code, "Aliyun %s: %s", action, safeMessage(msg))
	if class == channels.RateLimited {
		e.RetryAfter = retryAfter(code, msg, now)
	}
	return e
}

// retryAfter reads which limit was hit from the message ("触发分钟级流控",
// "触发小时级流控", "触发天级流控" or their English forms).
func retryAfter(code, msg string, now time.Time) time.Duration {
	m := strings.ToLower(msg)
	switch {
	case strings.HasPrefix(code, "Throttling"):
		return throttleWait
	case code == "isv.DAY_LIMIT_CONTROL", strings.Contains(m, "天级"), strings.Contains(m, "day"):
		return untilChinaMidnight(now)
	case strings.Contains(m, "小时"), strings.Contains(m, "hour"):
		return hourWait
	default:
		return minuteWait
	}
}

func untilChinaMidnight(now time.Time) time.Duration {
	t := now.In(china)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, china)
	return next.Sub(now)
}

// classifyErr classifies an error returned by an SDK call. It never uses
// err.Error(): transport errors quote the request URL, which carries the
// phone number and the signature.
func classifyErr(action string, err error) *channels.SendError {
	var srv *sdkerrors.ServerError
	if errors.As(err, &srv) {
		status := srv.HttpStatus()
		if _, known := codeClasses[srv.ErrorCode()]; known || strings.HasPrefix(srv.ErrorCode(), "Throttling") {
			return codeError(action, srv.ErrorCode(), providerMessage(srv), time.Now())
		}
		switch {
		case status >= 500:
			return channels.Errorf(channels.Transient, srv.ErrorCode(), "Aliyun %s: HTTP %d", action, status)
		case status == http.StatusTooManyRequests:
			e := channels.Errorf(channels.RateLimited, srv.ErrorCode(), "Aliyun %s: HTTP %d", action, status)
			e.RetryAfter = throttleWait
			return e
		default: // other 4xx: a request retrying will not fix
			return channels.Errorf(channels.Permanent, srv.ErrorCode(), "Aliyun %s: HTTP %d: %s", action, status, safeMessage(providerMessage(srv)))
		}
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return channels.Errorf(channels.Transient, "timeout", "Aliyun %s: timed out", action)
	case errors.Is(err, context.Canceled):
		return channels.Errorf(channels.Transient, "canceled", "Aliyun %s: canceled", action)
	}
	var cli *sdkerrors.ClientError
	if errors.As(err, &cli) {
		return channels.Errorf(channels.Transient, cli.ErrorCode(), "Aliyun %s: client error", action)
	}
	return channels.Errorf(channels.Transient, "network", "Aliyun %s: network error", action)
}

// providerMessage is the Message field of an error body; the SDK's own
// Message() is the whole body.
func providerMessage(srv *sdkerrors.ServerError) string {
	var body struct{ Message string }
	if json.Unmarshal([]byte(srv.Message()), &body) == nil && body.Message != "" {
		return body.Message
	}
	return ""
}

// safeMessage shortens a provider message and masks digit runs that could
// be phone numbers.
func safeMessage(msg string) string {
	var b strings.Builder
	digits := 0
	flush := func(run string) {
		if len(run) >= 5 {
			b.WriteString("***")
		} else {
			b.WriteString(run)
		}
	}
	start := 0
	for i := 0; i < len(msg); i++ {
		if msg[i] >= '0' && msg[i] <= '9' {
			if digits == 0 {
				start = i
			}
			digits++
			continue
		}
		if digits > 0 {
			flush(msg[start:i])
			digits = 0
		}
		b.WriteByte(msg[i])
	}
	if digits > 0 {
		flush(msg[start:])
	}
	s := b.String()
	if len(s) > 200 {
		s = s[:200]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		s += "…"
	}
	return s
}

// perRecipient says whether a batch failure is about one number (bad or
// over its own limit), so the batch should be retried number by number.
func perRecipient(e *channels.SendError) bool {
	return e.Code == "isv.MOBILE_NUMBER_ILLEGAL" || e.Code == "isv.BUSINESS_LIMIT_CONTROL"
}

func asSendError(err error, target **channels.SendError) bool {
	return err != nil && errors.As(err, target)
}
