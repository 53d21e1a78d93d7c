// Package links makes and resolves customers' personal links, /l/{token}:
// a short token (it goes into SMS) bound to a customer, a transfer and the
// purposes the customer is asked about, optionally to the campaign
// delivery that carried it. The token itself is never stored (HashToken).
package links

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/handoverhq/handover"
)

// A token is TokenLen URL-safe characters: a time prefix of prefixLen
// (sixteenths of a second since 2025, in base 32 of digits and lowercase
// letters, which sort the same in every collation) and 11 random
// characters of 6 bits each (66 bits from crypto/rand). The prefix puts
// each new token's stored key at the end of the links index, in the
// order they are made: random keys put every sent link on an index page
// of its own, and each commit wrote all those pages again (with random
// keys, storing the links was a quarter of the SQLite sender's CPU).
// Guessing a token still means guessing 66 random bits for the links
// made within one sixteenth of a second.
const TokenLen = prefixLen + randomLen

const (
	prefixLen = 7 // 35 bits of sixteenths of a second: until 2093
	randomLen = 11
	// legacyLen is the length of the tokens issued before the prefix: 14
	// random characters, stored under their SHA-256 alone. They still
	// resolve until they expire.
	legacyLen = 14
)

// alphabet is the random characters'; prefixDigits the prefix's.
const (
	alphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	prefixDigits = "0123456789abcdefghijklmnopqrstuv"
)

// tokenEpoch is where the prefix counts from.
var tokenEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// NewToken returns a fresh token and the key to store (HashToken).
func NewToken() (token, hash string, err error) {
	b := make([]byte, TokenLen)
	if _, err := rand.Read(b[prefixLen:]); err != nil {
		return "", "", err
	}
	for i := prefixLen; i < TokenLen; i++ {
		b[i] = alphabet[b[i]&63] // 256 is a multiple of 64: uniform
	}
	n := max(time.Since(tokenEpoch)*16/time.Second, 0)
	for i := prefixLen - 1; i >= 0; i-- {
		b[i], n = prefixDigits[n&31], n>>5
	}
	return string(b), HashToken(string(b)), nil
}

// HashToken is the key a token is stored under: its time prefix and the
// SHA-256 (hex) of the whole token, so that a copy of the database opens
// no link; a legacy token's is its SHA-256 alone.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	if len(token) == TokenLen {
		return token[:prefixLen] + hex.EncodeToString(sum[:])
	}
	return hex.EncodeToString(sum[:])
}

// ParseToken checks that s has a token's shape (TokenLen characters, the
// prefix's of prefixDigits and the rest URL-safe, or a legacy token's 14
// URL-safe ones) before anything looks it up.
func ParseToken(s string) (string, error) {
	if len(s) != TokenLen && len(s) != legacyLen {
		return "", handover.Errorf(handover.EINVALID, "Not a link token.")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if len(s) == TokenLen && i < prefixLen {
			ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'v'
		}
		if !ok {
			return "", handover.Errorf(handover.EINVALID, "Not a link token.")
		}
	}
	return s, nil
}
