// Package kmsfake is a local Aliyun KMS speaking the RPC protocol the real
// SDK uses (signature checked), with Encrypt and Decrypt under keys it
// makes on demand. Tests point the SDK at it.
package kmsfake

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/handoverhq/handover/internal/aliyunfake"
	"github.com/handoverhq/handover/pii/aliyunkms"
)

// Server is a fake KMS.
type Server struct {
	mu   sync.Mutex
	keys map[string][]byte
	// Decrypts counts successful Decrypt calls.
	Decrypts int
	srv      *httptest.Server
}

// Start runs a fake KMS for the test.
func Start(t testing.TB) *Server {
	s := &Server{keys: map[string][]byte{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

// Config points aliyunkms at the fake.
func (s *Server) Config() aliyunkms.Config {
	return aliyunkms.Config{Endpoint: strings.TrimPrefix(s.srv.URL, "http://"), Region: "cn-hangzhou", Scheme: "http",
		AccessKeyID: aliyunfake.AccessKeyID, AccessKeySecret: aliyunfake.AccessKeySecret}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p, apiErr := aliyunfake.ReadParams(r)
	if apiErr == nil {
		apiErr = aliyunfake.CheckAuth(r.Method, "2016-01-20", p)
	}
	if apiErr == nil {
		switch p["Action"] {
		case "Encrypt":
			apiErr = s.encrypt(w, p)
		case "Decrypt":
			apiErr = s.decrypt(w, p)
		default:
			apiErr = &aliyunfake.Error{Status: http.StatusNotFound, Code: "InvalidAction.NotFound", Message: "Specified api is not found"}
		}
	}
	if apiErr != nil {
		writeJSON(w, apiErr.Status, map[string]string{"Code": apiErr.Code, "Message": apiErr.Message, "RequestId": "fake"})
	}
}

// blob is keyID "." base64(nonce|sealed); the encryption context is the
// associated data, as with real KMS.
func (s *Server) encrypt(w http.ResponseWriter, p map[string]string) *aliyunfake.Error {
	keyID := p["KeyId"]
	if keyID == "" || p["Plaintext"] == "" {
		return &aliyunfake.Error{Status: http.StatusBadRequest, Code: "MissingParameter", Message: "KeyId and Plaintext are mandatory"}
	}
	aead := s.aead(keyID, true)
	nonce := make([]byte, aead.NonceSize())
	rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, []byte(p["Plaintext"]), []byte(p["EncryptionContext"]))
	writeJSON(w, http.StatusOK, map[string]string{"KeyId": keyID, "KeyVersionId": "v1", "RequestId": "fake",
		"CiphertextBlob": keyID + "." + base64.StdEncoding.EncodeToString(sealed)})
	return nil
}

func (s *Server) decrypt(w http.ResponseWriter, p map[string]string) *aliyunfake.Error {
	invalid := &aliyunfake.Error{Status: http.StatusBadRequest, Code: "InvalidCiphertext", Message: "The specified Ciphertext is not valid."}
	keyID, b64, ok := strings.Cut(p["CiphertextBlob"], ".")
	raw, err := base64.StdEncoding.DecodeString(b64)
	aead := s.aead(keyID, false)
	if !ok || err != nil || aead == nil || len(raw) < aead.NonceSize() {
		return invalid
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(p["EncryptionContext"]))
	if err != nil {
		return invalid
	}
	s.mu.Lock()
	s.Decrypts++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"KeyId": keyID, "KeyVersionId": "v1", "RequestId": "fake", "Plaintext": string(plain)})
	return nil
}

func (s *Server) aead(keyID string, create bool) cipher.AEAD {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[keyID]
	if !ok {
		if !create {
			return nil
		}
		k = make([]byte, 32)
		rand.Read(k)
		s.keys[keyID] = k
	}
	block, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(block)
	return aead
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
