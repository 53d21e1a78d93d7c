package customers

import (
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/width"

	"github.com/handoverhq/handover"
)

// DefaultPhoneRegion is the region assumed for numbers written without a
// country code.
const DefaultPhoneRegion = "CN"

// Field length limits, in characters. A longer value is a rejected row (or
// a refused correction), not a truncated one.
const (
	MaxNameLen   = 200
	MaxTextLen   = 500 // company, address
	maxOpenIDLen = 128
)

// NormalizePhone returns phone in E.164 form (+8613812345678). It accepts
// full-width digits, spaces, dashes, brackets, a 0086 or 86 prefix and the
// forms Excel leaves behind (13812345678.0, 1.3812345678E+10). Numbers
// without a country code are read as Chinese. The error is EINVALID and
// never contains the number.
func NormalizePhone(phone string) (string, error) {
	s := strings.TrimSpace(width.Narrow.String(phone))
	if s == "" {
		return "", handover.Errorf(handover.EINVALID, "phone number is empty")
	}
	if len(s) > 40 {
		return "", handover.Errorf(handover.EINVALID, "phone number is too long")
	}
	s = fromSpreadsheetNumber(s)
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' || r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' || r == '\u00a0':
		default:
			return "", handover.Errorf(handover.EINVALID, "phone number contains characters other than digits, spaces, dashes and +")
		}
	}
	compact := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '+' {
			return r
		}
		return -1
	}, s)
	switch {
	case strings.HasPrefix(compact, "00"):
		compact = "+" + compact[2:]
	case len(compact) == 13 && strings.HasPrefix(compact, "861"):
		// 8613812345678: a Chinese mobile with its country code but no +.
		compact = "+" + compact
	}
	if len(compact) == 11 && compact[0] == '1' && isDigits(compact) {
		if valid, ok := mobilePrefixes.Load(compact[:7]); ok {
			if !valid.(bool) {
				return "", errInvalidPhone
			}
			return "+86" + compact, nil
		}
	}
	e164, err := parsePhone(compact)
	if len(compact) == 11 && compact[0] == '1' && isDigits(compact) && mobilePrefixCount.Add(1) <= maxMobilePrefixes {
		mobilePrefixes.Store(compact[:7], err == nil && e164 == "+86"+compact)
	}
	return e164, err
}

var errInvalidPhone = handover.Errorf(handover.EINVALID, "not a valid phone number (Chinese numbers need 11 digits; others need +country code)")

// parsePhone is the full libphonenumber check. It runs thousands of
// regular-expression steps, so NormalizePhone remembers its verdict for
// Chinese mobile numbers by their first 7 digits (operator and area
// block: the last 4 digits never decide validity), which makes a
// million-row import several times cheaper.
func parsePhone(compact string) (string, error) {
	num, err := phonenumbers.Parse(compact, DefaultPhoneRegion)
	if err != nil || !phonenumbers.IsValidNumber(num) {
		return "", errInvalidPhone
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// mobilePrefixes caches parsePhone's verdict per 7-digit mobile prefix,
// up to maxMobilePrefixes entries (a few MB).
var (
	mobilePrefixes    sync.Map
	mobilePrefixCount atomic.Int64
)

const maxMobilePrefixes = 100000

// fromSpreadsheetNumber undoes what spreadsheets do to long numbers stored
// as numbers: "13812345678.0" and "1.3812345678E+10".
func fromSpreadsheetNumber(s string) string {
	if i := strings.IndexByte(s, '.'); i > 0 && isDigits(s[:i]) && strings.Trim(s[i+1:], "0") == "" {
		return s[:i]
	}
	if strings.ContainsAny(s, "eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f > 0 && f < 1e15 && f == float64(int64(f)) {
			return strconv.FormatInt(int64(f), 10)
		}
	}
	return s
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// NormalizeEmail validates a bare address (no display name, no brackets)
// and lowercases its domain. The error never contains the address.
func NormalizeEmail(email string) (string, error) {
	s := strings.TrimSpace(width.Narrow.String(email))
	if s == "" {
		return "", handover.Errorf(handover.EINVALID, "email is empty")
	}
	if len(s) > 254 {
		return "", handover.Errorf(handover.EINVALID, "email is too long")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", handover.Errorf(handover.EINVALID, "not a valid email address (write it bare, like name@example.com)")
	}
	at := strings.LastIndexByte(s, '@')
	domain := strings.ToLower(s[at+1:])
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return "", handover.Errorf(handover.EINVALID, "email domain is not valid")
	}
	return s[:at+1] + domain, nil
}

// NormalizeOpenID checks a WeChat openid: printable ASCII without spaces.
// The second result says why it is not one ("" when it is).
func NormalizeOpenID(s string) (string, string) {
	s = strings.TrimSpace(s)
	if len(s) > maxOpenIDLen {
		return "", "WeChat openid is too long"
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", "WeChat openid may contain only letters, digits, - and _"
		}
	}
	return s, ""
}

// NormalizeTimeZone checks that s names an IANA time zone, such as
// Asia/Shanghai or Europe/Berlin, and returns it trimmed; "" stays "" (not
// known). "Local" is refused: it means whatever zone the server runs in.
// The error is EINVALID.
func NormalizeTimeZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if _, ok := knownZones.Load(s); ok {
		return s, nil
	}
	if _, err := time.LoadLocation(s); err != nil || s == "Local" || len(s) > maxZoneLen {
		return "", errInvalidTimeZone
	}
	knownZones.Store(s, true)
	return s, nil
}

// knownZones remembers the zone names NormalizeTimeZone accepted: an import
// names a few zones on many rows, and loading one reads the zone database.
// Only accepted names are kept, so it holds at most the database's names.
var knownZones sync.Map

const maxZoneLen = 64

var errInvalidTimeZone = handover.Errorf(handover.EINVALID, "time zone is not an IANA time zone name such as Asia/Shanghai or Europe/Berlin")

// CleanText trims s, folds runs of whitespace and control characters, and
// checks its length; the second result says why it is refused, naming
// label ("" when it is not).
func CleanText(s string, maxLen int, label string) (string, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ""
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == utf8.RuneError }) >= 0 {
		s = strings.Join(strings.FieldsFunc(s, func(r rune) bool {
			return unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError
		}), " ")
	}
	if utf8.RuneCountInString(s) > maxLen {
		return "", label + " is longer than " + strconv.Itoa(maxLen) + " characters"
	}
	return s, ""
}
