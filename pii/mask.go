package pii

import (
	"strings"
	"unicode/utf8"
)

// MaskPhone shows a phone number as staff see it by default: the national
// number with its middle hidden, e.g. +8613812345678 → 138****5678.
func MaskPhone(e164 string) string {
	national := strings.TrimPrefix(e164, "+86")
	if national == e164 {
		national = strings.TrimPrefix(e164, "+")
	}
	if len(national) < 7 {
		return strings.Repeat("*", len(national))
	}
	return national[:3] + "****" + national[len(national)-4:]
}

// MaskEmail keeps the first letter of the local part and the domain:
// zhang@example.com → z***@example.com.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return MaskText(email)
	}
	r, _ := utf8.DecodeRuneInString(email)
	return string(r) + "***" + email[at:]
}

// MaskName keeps the first character of a name and hides the rest behind
// a mask of fixed length, so the mask does not tell how long the name is:
// 张三丰 → 张**, 张三 → 张**, Alice → A**.
func MaskName(name string) string {
	if name == "" {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(name)
	return string(r) + "**"
}

// maskTextKeep is how many leading characters MaskText shows at most.
const maskTextKeep = 3

// MaskText keeps the first few characters of free text such as an address
// or company name (at most three, and never more than a third) and hides
// the rest behind a mask of fixed length.
func MaskText(s string) string {
	runes := []rune(s)
	if len(runes) == 0 {
		return ""
	}
	keep := min(len(runes)/3, maskTextKeep)
	return string(runes[:keep]) + "***"
}
