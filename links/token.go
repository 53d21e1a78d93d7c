// Package links makes and resolves customers' personal links, /l/{token}:
// a short random token (it goes into SMS) bound to a customer, a transfer
// and the purposes the customer is asked about, optionally to the campaign
// delivery that carried it. Only the token's SHA-256 is stored.
package links

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"

	"github.com/handoverhq/handover"
)

// TokenLen is the length of a token: 14 URL-safe characters of 6 random
// bits each, 84 bits in all.
const TokenLen = 14

const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// NewToken returns a fresh random token and the hash to store.
func NewToken() (token, hash string, err error) {
	b := make([]byte, TokenLen)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	for i := range b {
		b[i] = alphabet[b[i]&63] // 256 is a multiple of 64: uniform
	}
	return string(b), HashToken(string(b)), nil
}

// HashToken is the SHA-256 (hex) under which a token is stored.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ParseToken checks that s has a token's shape (TokenLen characters of the
// URL-safe alphabet) before anything looks it up.
func ParseToken(s string) (string, error) {
	if len(s) != TokenLen {
		return "", handover.Errorf(handover.EINVALID, "Not a link token.")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "", handover.Errorf(handover.EINVALID, "Not a link token.")
		}
	}
	return s, nil
}
