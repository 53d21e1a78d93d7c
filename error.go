// Package handover holds the few types every part of Handover shares: the
// application error with its codes. Domain types live in their own packages.
package handover

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/handoverhq/handover/locales"
)

// Error codes. Each maps to one HTTP status in the web package.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ETOOLARGE     = "too_large"
	EUNAVAILABLE  = "unavailable"
	ETOOMANY      = "rate_limited" // slow down: a throttle or a send limit
	EINTERNAL     = "internal"
)

// Error is an error meant for the user: a code and a message safe to show.
// Messages never carry personal data (no names, phones, emails).
//
// Message is the English text, for logs and the JSON API. Key names the
// text in the message catalog (locales/errors.*.yaml) and Args fill its
// placeholders, so pages show it in the reader's language: Errorf finds
// the key by its format, whose English text the catalog holds.
type Error struct {
	Code    string
	Message string
	Key     string
	Args    []any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("handover error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Key: locales.ErrorKey(format), Args: args}
}

// Clip shortens s to its first n runes and a "…" when it is longer: a
// value quoted in a message, or a free text kept to its column's size.
func Clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// ErrorCode returns the code of an application error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of an application error in err's chain,
// or a generic message for any other error, so internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// LocalizedMessage is ErrorMessage in the reader's language (zh-CN or en):
// the catalog's text of the error's key, or, for an error the catalog has
// no text for, its English message to an English reader and the words for
// its code to anyone else. Pages show this; the JSON API keeps Message.
func LocalizedMessage(lang string, err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		return locales.T(lang, "errors.code."+EINTERNAL)
	}
	if e.Key != "" && locales.Has(lang, e.Key) {
		// A state or channel code passed as a value is worded too.
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			args[i] = a
			if s, ok := a.(fmt.Stringer); ok {
				a = s.String()
			}
			if s, ok := a.(string); ok && locales.Has(lang, "errors.arg."+s) {
				args[i] = locales.T(lang, "errors.arg."+s)
			}
		}
		return fmt.Sprintf(locales.T(lang, e.Key), args...)
	}
	if locales.Lang(lang) == locales.English {
		return e.Message
	}
	return locales.T(lang, "errors.code."+e.Code)
}
