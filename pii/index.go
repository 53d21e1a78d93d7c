package pii

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strings"
	"sync"
)

// Index computes HMAC-SHA256 blind indexes: equal inputs give equal index
// values, so the database can find and dedup customers by phone, email or
// openid without holding them in plaintext.
type Index struct {
	pool sync.Pool
}

// NewIndex returns an Index keyed with key (32 bytes).
func NewIndex(key []byte) *Index {
	k := append([]byte(nil), key...)
	return &Index{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, k) }}}
}

// Phone indexes an E.164 phone number.
func (x *Index) Phone(e164 string) string { return x.sum("phone", e164) }

// Email indexes an email address, case-insensitively.
func (x *Index) Email(email string) string { return x.sum("email", strings.ToLower(email)) }

// OpenID indexes a WeChat openid.
func (x *Index) OpenID(openid string) string { return x.sum("openid", openid) }

// Dedup indexes a provider's deduplication key, which may embed a phone
// number (Aliyun receipts are keyed by biz_id and phone).
func (x *Index) Dedup(key string) string { return x.sum("dedup", key) }

func (x *Index) sum(kind, value string) string {
	if value == "" {
		return ""
	}
	h := x.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(value))
	var out [32]byte
	sum := h.Sum(out[:0])
	x.pool.Put(h)
	// 128 bits are plenty for an index and keep the column short.
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// DeriveKey is a 32-byte key for purpose (e.g. "audit-chain/1") derived
// from the blind-index key: never stored, unusable without the master key
// that wraps the blind-index key, and unchanged by master key rotation
// (which only re-wraps it).
func (x *Index) DeriveKey(purpose string) []byte {
	h := x.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte("derive"))
	h.Write([]byte{0})
	h.Write([]byte(purpose))
	key := h.Sum(nil)
	x.pool.Put(h)
	return key
}
