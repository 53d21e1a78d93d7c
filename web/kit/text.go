package kit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
)

// ErrBadText answers text that is not valid UTF-8 or holds control
// characters. PostgreSQL refuses NUL and invalid UTF-8 in text, so without
// this check such input reached the database and came back as a 500.
var ErrBadText = handover.Errorf(handover.EINVALID,
	"The request holds a control character (such as NUL) or bytes that are not UTF-8 text. Remove them and send it again.")

// BadText reports whether s is not valid UTF-8 or holds a C0 control
// character or DEL; tab, newline and carriage return pass only when
// layout is allowed (free text in a form or JSON body).
func BadText(s string, layout bool) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != 0x7f {
			continue
		}
		if layout && (c == '\t' || c == '\n' || c == '\r') {
			continue
		}
		return true
	}
	return false
}

// CheckText refuses, with 400, a request whose path, query, user agent,
// form body or JSON body holds bad text (BadText), before any handler or
// database sees it. The bodies of the requests skip reports (provider
// hooks, which check their own signed bodies) are left alone, and so are
// uploaded files, which are the importer's to judge.
func CheckText(skip func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return checkText(skip, next)
	}
}

func checkText(skip func(echo.Context) bool, next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if BadText(r.URL.Path, false) || BadText(r.UserAgent(), false) || BadValues(r.URL.Query(), false) {
			return ErrBadText
		}
		if skip(c) || r.Body == nil || r.ContentLength == 0 {
			return next(c)
		}
		ct := r.Header.Get(echo.HeaderContentType)
		form := strings.HasPrefix(ct, echo.MIMEApplicationForm)
		if !form && !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
			return next(c)
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return err // the body limit's 413, or a broken connection
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if form && badForm(body) || !form && badJSON(body) {
			return ErrBadText
		}
		return next(c)
	}
}

// BadValues reports whether a key or value of v is bad text (BadText);
// layout is allowed in values when layout is true.
func BadValues(v url.Values, layout bool) bool {
	for k, vs := range v {
		if BadText(k, false) {
			return true
		}
		for _, s := range vs {
			if BadText(s, layout) {
				return true
			}
		}
	}
	return false
}

// badForm checks a urlencoded body. A body that does not parse is left
// for the handler to refuse.
func badForm(body []byte) bool {
	v, err := url.ParseQuery(string(body))
	return err == nil && BadValues(v, true)
}

// badJSON checks every string (keys included) of a JSON body; escapes such
// as \u0000 are decoded first, which is where control characters hide.
// A body that is not JSON is left for BindJSON to refuse.
func badJSON(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		if s, ok := tok.(string); ok && BadText(s, true) {
			return true
		}
	}
}
