// Package pii protects personal data at rest: envelope encryption (a data
// key per customer, wrapped by the master key), HMAC blind indexes for exact
// lookups, and masking for display.
//
// Each customer's fields are sealed with AES-256-GCM under that customer's
// own data key; the data key is stored wrapped by a master key named by its
// key id. Rotating the master key re-wraps data keys only. Destroying a
// customer's data key makes every copy of their fields unreadable
// (crypto-shredding).
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/handoverhq/handover/pii/masterkey"
)

// KeySize is the size of master and data keys: AES-256.
const KeySize = masterkey.Size

// Keyring holds the current master key and any previous ones still needed
// to unwrap keys that have not been re-wrapped yet.
type Keyring struct {
	currentID string
	masters   map[string]cipher.AEAD
}

// WrappedKey is a data key sealed by the master key named KeyID.
type WrappedKey struct {
	KeyID   string
	Wrapped string
}

// KeyID names a master key without revealing it.
func KeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("handover-key-id:"), key...))
	return hex.EncodeToString(sum[:4])
}

// NewKeyring builds a keyring whose current key is current; previous keys
// can unwrap but never wrap.
func NewKeyring(current []byte, previous ...[]byte) (*Keyring, error) {
	k := &Keyring{masters: map[string]cipher.AEAD{}}
	for i, key := range append([][]byte{current}, previous...) {
		aead, err := newAEAD(key)
		if err != nil {
			return nil, err
		}
		id := KeyID(key)
		if i == 0 {
			k.currentID = id
		}
		if _, dup := k.masters[id]; !dup {
			k.masters[id] = aead
		}
	}
	return k, nil
}

// CurrentKeyID is the id of the key that wraps new data keys.
func (k *Keyring) CurrentKeyID() string { return k.currentID }

// NewDataKey makes a random data key and wraps it with the current master key.
func (k *Keyring) NewDataKey() (*DataKey, WrappedKey, error) {
	raw := make([]byte, KeySize)
	if _, err := rand.Read(raw); err != nil {
		return nil, WrappedKey{}, err
	}
	dk, err := newDataKey(raw)
	if err != nil {
		return nil, WrappedKey{}, err
	}
	return dk, k.Wrap(dk), nil
}

// Wrap seals a data key with the current master key.
func (k *Keyring) Wrap(dk *DataKey) WrappedKey {
	return WrappedKey{KeyID: k.currentID, Wrapped: seal(k.masters[k.currentID], dk.raw, []byte("data-key"))}
}

// Unwrap opens a wrapped data key with the master key its id names.
func (k *Keyring) Unwrap(w WrappedKey) (*DataKey, error) {
	aead, ok := k.masters[w.KeyID]
	if !ok {
		return nil, fmt.Errorf("unwrap data key: master key %s is not configured", w.KeyID)
	}
	raw, err := open(aead, w.Wrapped, []byte("data-key"))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key under %s: %w", w.KeyID, err)
	}
	return newDataKey(raw)
}

// DataKey seals and opens one customer's fields.
type DataKey struct {
	raw  []byte
	aead cipher.AEAD
}

func newDataKey(raw []byte) (*DataKey, error) {
	aead, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &DataKey{raw: raw, aead: aead}, nil
}

// Seal encrypts plaintext bound to context (e.g. "customer-id/phone") so a
// ciphertext copied to another row or field fails to open. An empty
// plaintext seals to the empty string.
func (d *DataKey) Seal(plaintext, context string) string {
	if plaintext == "" {
		return ""
	}
	return seal(d.aead, []byte(plaintext), []byte(context))
}

// Open decrypts what Seal produced with the same context.
func (d *DataKey) Open(ciphertext, context string) (string, error) {
	if ciphertext == "" {
		return "", nil
	}
	b, err := open(d.aead, ciphertext, []byte(context))
	return string(b), err
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func seal(aead cipher.AEAD, plaintext, ad []byte) string {
	buf := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	rand.Read(buf)
	return base64.RawStdEncoding.EncodeToString(aead.Seal(buf, buf, plaintext, ad))
}

func open(aead cipher.AEAD, ciphertext string, ad []byte) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(ciphertext)
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("ciphertext is malformed")
	}
	pt, err := aead.Open(nil, b[:aead.NonceSize()], b[aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("ciphertext does not open with this key")
	}
	return pt, nil
}
