// Package masterkey reads and makes the master key's text form. It stands
// apart from pii so configuration can check a key without pulling in the
// vault and the database drivers.
package masterkey

import (
	"crypto/rand"
	"encoding/base64"
	"strings"

	"github.com/handoverhq/handover"
)

// Size is the size of a master key: AES-256.
const Size = 32

// Parse decodes a base64 (standard or URL, padded or not) 32-byte key.
func Parse(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != Size {
				return nil, handover.Errorf(handover.EINVALID, "master key must be %d bytes, got %d", Size, len(key))
			}
			return key, nil
		}
	}
	return nil, handover.Errorf(handover.EINVALID, "master key is not valid base64")
}

// Generate returns a fresh random master key in base64.
func Generate() string {
	key := make([]byte, Size)
	rand.Read(key)
	return base64.StdEncoding.EncodeToString(key)
}
