package wechat

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"github.com/handoverhq/handover/channels"
)

const (
	maxCallbackBody = 64 << 10
	// maxCallbackAge rejects replays: the SDK checks no timestamp.
	maxCallbackAge = 5 * time.Minute
	// maxNonce bounds the nonce kept in Redis; WeChat's are about 10 digits.
	maxNonce = 64
)

// CallbackHandler serves GET and POST /hooks/wechat. GET is WeChat's URL
// verification (echoes echostr). POST carries messages and events, plain
// or AES safe mode (encrypt_type=aes); once an EncodingAESKey is
// configured only safe mode is accepted, since a plain push's signature
// does not cover its body. The handler checks the signature (401), the
// timestamp's age and the nonce (400), the mode (400), the size (413),
// msg_signature and the XML (400), that the (timestamp, nonce) pair was
// not used before (409), records the events with record and only then
// answers "success" (in safe mode an encrypted empty reply). A failed
// record answers 500 and forgets the nonce so WeChat's retry gets through.
// Nothing is processed inline: WeChat retries after 5 s. A nil log is
// slog.Default().
func (c *Channel) CallbackHandler(record channels.RecordFunc, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		q := r.URL.Query()
		if !c.validSignature(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
			log.Warn("wechat callback: bad signature")
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if !fresh(q.Get("timestamp"), time.Now()) {
			log.Warn("wechat callback: stale or missing timestamp")
			http.Error(w, "stale timestamp", http.StatusBadRequest)
			return
		}
		if n := len(q.Get("nonce")); n == 0 || n > maxNonce {
			log.Warn("wechat callback: missing or oversized nonce")
			http.Error(w, "bad nonce", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodGet {
			if !c.claim(w, r, q, log) {
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, q.Get("echostr"))
			return
		}
		c.handlePush(w, r, q, record, log)
	})
}

// claim remembers the request's (timestamp, nonce) pair, answering 409
// for a repeat and 500 when Redis cannot say (WeChat retries).
func (c *Channel) claim(w http.ResponseWriter, r *http.Request, q url.Values, log *slog.Logger) bool {
	err := c.claimNonce(r.Context(), q.Get("timestamp"), q.Get("nonce"))
	switch {
	case errors.Is(err, errReplayed):
		log.Warn("wechat callback: replayed timestamp and nonce")
		http.Error(w, "timestamp and nonce already used", http.StatusConflict)
		return false
	case err != nil:
		log.Error("wechat callback: cannot check the nonce", "error", err.Error())
		http.Error(w, "cannot check the nonce", http.StatusInternalServerError)
		return false
	}
	return true
}

func (c *Channel) handlePush(w http.ResponseWriter, r *http.Request, q url.Values, record channels.RecordFunc, log *slog.Logger) {
	safeMode := q.Get("encrypt_type") == "aes"
	if c.cfg.EncodingAESKey != "" && !safeMode {
		log.Warn("wechat callback: plain push refused, safe mode is configured")
		http.Error(w, "safe mode (encrypt_type=aes) required", http.StatusBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxCallbackBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if safeMode {
		var status int
		if body, status = c.decrypt(body, q); status != http.StatusOK {
			log.Warn("wechat callback: rejected safe-mode body", "status", status)
			http.Error(w, http.StatusText(status), status)
			return
		}
	}
	var push inboundXML
	if err := xml.Unmarshal(body, &push); err != nil {
		log.Warn("wechat callback: malformed XML")
		http.Error(w, "malformed XML", http.StatusBadRequest)
		return
	}
	events, err := inboundEvents(&push)
	if err != nil {
		log.Warn("wechat callback: incomplete push", "msg_type", push.MsgType, "reason", err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !c.claim(w, r, q, log) {
		return
	}
	if len(events) > 0 {
		if _, err := record(r.Context(), events); err != nil {
			c.releaseNonce(q.Get("timestamp"), q.Get("nonce"))
			log.Error("wechat callback: record failed", "error", err.Error())
			http.Error(w, "cannot record", http.StatusInternalServerError)
			return
		}
	}
	if safeMode {
		c.writeEncryptedEmpty(w, q, log)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "success")
}

// validSignature checks SHA-1 of the sorted token, timestamp and nonce.
func (c *Channel) validSignature(signature string, parts ...string) bool {
	want := util.Signature(append(parts, c.cfg.Token)...)
	return subtle.ConstantTimeCompare([]byte(signature), []byte(want)) == 1
}

func fresh(timestamp string, now time.Time) bool {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return false
	}
	age := now.Sub(time.Unix(ts, 0))
	return age <= maxCallbackAge && age >= -maxCallbackAge
}

// decrypt checks msg_signature over the encrypted body and decrypts it.
func (c *Channel) decrypt(body []byte, q url.Values) ([]byte, int) {
	if c.cfg.EncodingAESKey == "" {
		return nil, http.StatusBadRequest // safe mode is not configured
	}
	var env message.EncryptedXMLMsg
	if err := xml.Unmarshal(body, &env); err != nil || env.EncryptedMsg == "" {
		return nil, http.StatusBadRequest
	}
	if !c.validSignature(q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), env.EncryptedMsg) {
		return nil, http.StatusUnauthorized
	}
	_, plain, err := util.DecryptMsg(c.cfg.AppID, env.EncryptedMsg, c.cfg.EncodingAESKey)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	return plain, http.StatusOK
}

// writeEncryptedEmpty answers a safe-mode push with an encrypted empty
// reply, as the SDK's server does for a nil reply.
func (c *Channel) writeEncryptedEmpty(w http.ResponseWriter, q url.Values, log *slog.Logger) {
	random := make([]byte, 16)
	rand.Read(random)
	enc, err := util.EncryptMsg(random, nil, c.cfg.AppID, c.cfg.EncodingAESKey)
	if err != nil {
		log.Error("wechat callback: cannot encrypt reply")
		io.WriteString(w, "success") // WeChat also accepts a plain "success"
		return
	}
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")
	ts, _ := strconv.ParseInt(timestamp, 10, 64)
	out, _ := xml.Marshal(message.ResponseEncryptedXMLMsg{
		EncryptedMsg: string(enc),
		MsgSignature: util.Signature(c.cfg.Token, timestamp, nonce, string(enc)),
		Timestamp:    ts,
		Nonce:        nonce,
	})
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Write(out)
}
