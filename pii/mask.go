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

// MaskName keeps the first character of a name: 张三丰 → 张**, Alice → A****.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(name)
	return string(r) + strings.Repeat("*", n-1)
}

// MaskText keeps the first few characters of free text such as an address
// or company name and hides the rest.
func MaskText(s string) string {
	runes := []rune(s)
	keep := len(runes) / 3
	if keep > 6 {
		keep = 6
	}
	if len(runes) == 0 {
		return ""
	}
	return string(runes[:keep]) + "***"
}
