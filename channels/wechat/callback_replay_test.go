package wechat_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels/wechat/wechatfake"
)

// replay sends signed's query again with body: what an attacker who saw
// one push's URL can do.
func replay(signed *http.Request, body string) *http.Request {
	r := httptest.NewRequest(signed.Method, signed.URL.String(), strings.NewReader(body))
	r.Header.Set("Content-Type", "text/xml")
	return r
}

// TestCallbackSafeModeRefusesPlainPushes is finding 6: with an
// EncodingAESKey configured, a plain push (whose signature does not cover
// the body) carried a forged body through.
func TestCallbackSafeModeRefusesPlainPushes(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	rec := &recorder{}
	h := c.CallbackHandler(rec.record, quietLog())
	w := serve(t, h, fake.SignedCallback(wechatfake.TextXML("o-victim", "退订", 4242), false))
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "encrypt_type=aes") {
		t.Fatalf("plain push in safe mode: %d %q", w.Code, w.Body)
	}
	if len(rec.all()) != 0 {
		t.Fatalf("recorded %+v", rec.all())
	}
	// The encrypted push still goes through.
	if w := serve(t, h, fake.SignedCallback(wechatfake.TextXML("o-victim", "你好", 4243), true)); w.Code != http.StatusOK {
		t.Fatalf("safe-mode push: %d %q", w.Code, w.Body)
	}
	if len(rec.all()) != 1 {
		t.Fatalf("events %+v", rec.all())
	}
}

// TestCallbackRefusesReplays is finding 6: a signed query was accepted
// again with another body, so one captured push URL let anyone post as
// any openid within the freshness window.
func TestCallbackRefusesReplays(t *testing.T) {
	t.Parallel()
	for _, aes := range []bool{false, true} {
		c, fake := newChannelMode(t, aes)
		rec := &recorder{}
		h := c.CallbackHandler(rec.record, quietLog())
		first := fake.SignedCallback(wechatfake.TextXML("o-real", "你好", 5001), aes)
		var body bytes.Buffer
		io.Copy(&body, first.Body)
		first.Body = io.NopCloser(bytes.NewReader(body.Bytes()))
		if w := serve(t, h, replay(first, body.String())); w.Code != http.StatusOK {
			t.Fatalf("aes=%v: first push %d %q", aes, w.Code, w.Body)
		}
		forged := wechatfake.TextXML("o-victim", "退订", 5002)
		if aes {
			forged = body.String() // the body cannot be changed in safe mode: replay it as is
		}
		if w := serve(t, h, replay(first, forged)); w.Code != http.StatusConflict {
			t.Fatalf("aes=%v: replay answered %d %q", aes, w.Code, w.Body)
		}
		if ev := rec.all(); len(ev) != 1 || ev[0].From.OpenID != "o-real" {
			t.Fatalf("aes=%v: events %+v", aes, ev)
		}
	}
}

// TestCallbackReplayOfVerification: the echoed echostr is not signed, so
// a verification query also works once.
func TestCallbackReplayOfVerification(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	h := c.CallbackHandler((&recorder{}).record, quietLog())
	r := fake.VerifyURL("echo-1")
	if w := serve(t, h, r); w.Code != http.StatusOK {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	again := httptest.NewRequest(http.MethodGet, strings.Replace(r.URL.String(), "echo-1", "evil", 1), nil)
	if w := serve(t, h, again); w.Code != http.StatusConflict || strings.Contains(w.Body.String(), "evil") {
		t.Fatalf("replayed verification: %d %q", w.Code, w.Body)
	}
}

// TestCallbackRetryAfterFailedRecord: a push that could not be recorded
// forgets its nonce, so WeChat's retry of the same push is stored.
func TestCallbackRetryAfterFailedRecord(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	first := fake.SignedCallback(wechatfake.TextXML("o-retry", "在吗", 6001), true)
	var body bytes.Buffer
	io.Copy(&body, first.Body)
	down := &recorder{err: errors.New("database is down")}
	if w := serve(t, c.CallbackHandler(down.record, quietLog()), replay(first, body.String())); w.Code != http.StatusInternalServerError {
		t.Fatalf("failed record: %d %q", w.Code, w.Body)
	}
	up := &recorder{}
	if w := serve(t, c.CallbackHandler(up.record, quietLog()), replay(first, body.String())); w.Code != http.StatusOK {
		t.Fatalf("retry: %d %q", w.Code, w.Body)
	}
	if len(up.all()) != 1 {
		t.Fatalf("events %+v", up.all())
	}
}
