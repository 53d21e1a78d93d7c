package wechat

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/handoverhq/handover/channels"
)

// WeChat errcodes Handover acts on.
const (
	codeSystemBusy         = -1
	codeInvalidCredential  = 40001 // access token invalid or not the latest
	codeInvalidOpenID      = 40003
	codeInvalidToken       = 40014
	codeInvalidTemplateID  = 40037
	codeTokenExpired       = 42001
	codeNotFollowing       = 43004
	codeUserRefused        = 43101 // subscribe message: user did not subscribe
	codeAPIFreqLimit       = 45009
	codeOutsideWindow      = 45015 // customer-service message after 48 h
	codeOutOfResponseLimit = 45047
	codeNoAPIPermission    = 48001
)

func tokenRejected(code int64) bool {
	return code == codeInvalidCredential || code == codeInvalidToken || code == codeTokenExpired
}

var errcodeRE = regexp.MustCompile(`errcode=(-?\d+)`)

// errCode finds WeChat's errcode in an SDK error: subscribe sends return
// *util.CommonError, template and customer-service sends fmt.Errorf text.
func errCode(err error) (int64, bool) {
	if err == nil {
		return 0, false
	}
	var ce *util.CommonError
	if errors.As(err, &ce) {
		return ce.ErrCode, true
	}
	m := errcodeRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0, false
	}
	n, perr := strconv.ParseInt(m[1], 10, 64)
	return n, perr == nil
}

// classify turns an SDK error into a *channels.SendError whose message
// carries neither secrets nor the openid.
func (c *Channel) classify(op, openID string, err error) *channels.SendError {
	msg := op + ": " + c.redact(err.Error())
	if openID != "" {
		msg = strings.ReplaceAll(msg, openID, "[openid]")
	}
	code, ok := errCode(err)
	if !ok { // network, timeout, HTTP status, unreadable answer
		return &channels.SendError{Class: channels.Transient, Message: msg}
	}
	se := &channels.SendError{Class: channels.Permanent, Code: strconv.FormatInt(code, 10), Message: msg}
	switch code {
	case codeSystemBusy:
		se.Class = channels.Transient
	case codeOutsideWindow, codeNotFollowing, codeInvalidOpenID, codeUserRefused:
		se.Class = channels.RecipientInvalid
	case codeAPIFreqLimit:
		// The template quota is daily: come back much later.
		se.Class, se.RetryAfter = channels.RateLimited, 15*time.Minute
	case codeOutOfResponseLimit:
		se.Class, se.RetryAfter = channels.RateLimited, time.Hour
	}
	// Everything else (40037, 48001, 40001 after the retry, bad appsecret…)
	// stays Permanent: retrying the same call will not help.
	return se
}

// secretParamRE matches query parameters that carry secrets in the URLs
// the SDK puts into its error strings.
var secretParamRE = regexp.MustCompile(`([?&](?:access_token|secret|code|refresh_token)=)[^&\s"']*`)

// redact removes the app secret and tokens from SDK error text.
func (c *Channel) redact(s string) string {
	s = secretParamRE.ReplaceAllString(s, "${1}REDACTED")
	if c.cfg.AppSecret != "" {
		s = strings.ReplaceAll(s, c.cfg.AppSecret, "REDACTED")
	}
	return s
}
