package channels

import (
	"errors"
	"fmt"
	"time"
)

// Class says how a failed send should be handled.
type Class string

// Error classes.
const (
	// Transient: retry later with backoff (timeouts, 5xx, provider busy).
	Transient Class = "transient"
	// Permanent: retrying will not help; fall back to the next channel.
	Permanent Class = "permanent"
	// RateLimited: wait RetryAfter, then retry without using up a retry.
	RateLimited Class = "rate_limited"
	// RecipientInvalid: this address cannot receive (bad number, unknown
	// openid, outside WeChat's 48-hour window); fall back to the next channel.
	RecipientInvalid Class = "recipient_invalid"
)

// SendError is a classified send failure. Code is the provider's code
// (e.g. "isv.BUSINESS_LIMIT_CONTROL", "45015"); Message never contains
// personal data or secrets.
type SendError struct {
	Class      Class
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s (%s): %s", e.Class, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Class, e.Message)
}

// Classify returns the class of err: a *SendError's own, Transient for any
// other error (unknown failures are retried), "" for nil.
func Classify(err error) Class {
	if err == nil {
		return ""
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Class
	}
	return Transient
}

// Errorf makes a *SendError.
func Errorf(class Class, code, format string, args ...any) *SendError {
	return &SendError{Class: class, Code: code, Message: fmt.Sprintf(format, args...)}
}
