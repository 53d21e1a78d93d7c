package wechat_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
)

// serve runs one request through a fresh handler.
func serve(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestCallbackURLVerification(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	rec := &recorder{}
	h := c.CallbackHandler(rec.record, quietLog())
	w := serve(t, h, fake.VerifyURL("echo-7461"))
	if w.Code != http.StatusOK || w.Body.String() != "echo-7461" {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
	r := fake.VerifyURL("echo")
	q := r.URL.Query()
	q.Set("signature", strings.Repeat("0", 40))
	r.URL.RawQuery = q.Encode()
	if w := serve(t, h, r); w.Code != http.StatusUnauthorized || strings.Contains(w.Body.String(), "echo") {
		t.Fatalf("forged verification: %d %q", w.Code, w.Body)
	}
}

func TestCallbackTextMessage(t *testing.T) {
	t.Parallel()
	for _, aes := range []bool{false, true} {
		c, fake := newChannelMode(t, aes)
		rec := &recorder{}
		h := c.CallbackHandler(rec.record, quietLog())
		w := serve(t, h, fake.SignedCallback(wechatfake.TextXML("openid-t", "我想改时间", 24680), aes))
		if w.Code != http.StatusOK {
			t.Fatalf("aes=%v: %d %q", aes, w.Code, w.Body)
		}
		if !aes && w.Body.String() != "success" {
			t.Fatalf("plain reply %q", w.Body)
		}
		if aes {
			plain, err := fake.DecryptReply(w.Body.Bytes())
			if err != nil || plain != "" {
				t.Fatalf("aes reply %q: %v", plain, err)
			}
		}
		ev := rec.all()
		if len(ev) != 1 {
			t.Fatalf("aes=%v: events %+v", aes, ev)
		}
		e := ev[0]
		if e.Channel != channels.WeChat || e.Kind != channels.EventMessage || e.DedupKey != "24680" ||
			e.From.OpenID != "openid-t" || e.Text != "我想改时间" || e.OccurredAt.IsZero() {
			t.Fatalf("aes=%v: event %+v", aes, e)
		}
	}
}

func TestCallbackEvents(t *testing.T) {
	t.Parallel()
	c, fake := newPlainChannel(t)
	rec := &recorder{}
	h := c.CallbackHandler(rec.record, quietLog())
	created := time.Unix(1_760_000_000, 0)
	bodies := []string{
		wechatfake.EventXML("o-sub", "subscribe", created),
		wechatfake.EventXML("o-sub", "unsubscribe", created),
		wechatfake.TemplateFinishXML("o-sub", 777001, "success"),
		wechatfake.TemplateFinishXML("o-sub", 777002, "failed:user block"),
		wechatfake.EventXML("o-sub", "CLICK", created), // not used: answered, not recorded
	}
	for _, b := range bodies {
		if w := serve(t, h, fake.SignedCallback(b, false)); w.Code != http.StatusOK || w.Body.String() != "success" {
			t.Fatalf("%d %q", w.Code, w.Body)
		}
	}
	ev := rec.all()
	if len(ev) != 4 {
		t.Fatalf("events %+v", ev)
	}
	want := []channels.InboundEvent{
		{Kind: channels.EventSubscribe, DedupKey: "o-sub:1760000000:subscribe"},
		{Kind: channels.EventUnsubscribe, DedupKey: "o-sub:1760000000:unsubscribe"},
		{Kind: channels.EventReceipt, DedupKey: "receipt:777001", ProviderMessageID: "777001", Status: channels.StatusDelivered},
		{Kind: channels.EventReceipt, DedupKey: "receipt:777002", ProviderMessageID: "777002", Status: channels.StatusFailed, ErrorCode: "failed:user block"},
	}
	for i, w := range want {
		e := ev[i]
		if e.Kind != w.Kind || e.DedupKey != w.DedupKey || e.ProviderMessageID != w.ProviderMessageID ||
			e.Status != w.Status || e.ErrorCode != w.ErrorCode || e.From.OpenID != "o-sub" {
			t.Errorf("event %d: %+v, want %+v", i, e, w)
		}
	}
}

func TestCallbackRejects(t *testing.T) {
	t.Parallel()
	c, fake := newPlainChannel(t)
	safe, safeFake := newChannel(t)
	body := wechatfake.TextXML("o-x", "hello", 1)
	forged := func(aes bool, param string) *http.Request {
		r := fake.SignedCallback(body, aes)
		if aes {
			r = safeFake.SignedCallback(body, aes)
		}
		q := r.URL.Query()
		q.Set(param, strings.Repeat("a", 40))
		r.URL.RawQuery = q.Encode()
		return r
	}
	stale := wechatfake.Callback{Token: fake.Token, Body: body, Time: time.Now().Add(-6 * time.Minute)}.Request()
	future := wechatfake.Callback{Token: fake.Token, Body: body, Time: time.Now().Add(6 * time.Minute)}.Request()
	wrongKey := wechatfake.Callback{Token: safeFake.Token, AppID: safeFake.AppID, AES: true, Body: body,
		EncodingAESKey: strings.Repeat("A", 43)}.Request()
	put := fake.SignedCallback(body, false)
	put.Method = http.MethodPut
	noNonce := wechatfake.Callback{Token: fake.Token, Body: body}.Request()
	q := noNonce.URL.Query()
	q.Del("nonce")
	q.Set("signature", util.Signature(fake.Token, q.Get("timestamp")))
	noNonce.URL.RawQuery = q.Encode()
	cases := []struct {
		name   string
		req    *http.Request
		status int
		safe   bool // sent to the safe-mode channel
	}{
		{"forged signature", forged(false, "signature"), http.StatusUnauthorized, false},
		{"forged msg_signature", forged(true, "msg_signature"), http.StatusUnauthorized, true},
		{"no nonce", noNonce, http.StatusBadRequest, false},
		{"safe mode not configured", fake.SignedCallback(body, true), http.StatusBadRequest, false},
		{"wrong token", wechatfake.Callback{Token: "not-the-token", Body: body}.Request(), http.StatusUnauthorized, false},
		{"stale timestamp", stale, http.StatusBadRequest, false},
		{"future timestamp", future, http.StatusBadRequest, false},
		{"oversized", fake.SignedCallback("<xml><Content>"+strings.Repeat("x", 64<<10)+"</Content></xml>", false), http.StatusRequestEntityTooLarge, false},
		{"malformed XML", fake.SignedCallback("<xml><FromUserName>o</From", false), http.StatusBadRequest, false},
		{"not XML", fake.SignedCallback(`{"MsgType":"text"}`, false), http.StatusBadRequest, false},
		{"no sender", fake.SignedCallback("<xml><MsgType>text</MsgType><MsgId>5</MsgId></xml>", false), http.StatusBadRequest, false},
		{"aes key mismatch", wrongKey, http.StatusBadRequest, true},
		{"method", put, http.StatusMethodNotAllowed, false},
	}
	for _, tc := range cases {
		rec := &recorder{}
		ch := c
		if tc.safe {
			ch = safe
		}
		w := serve(t, ch.CallbackHandler(rec.record, quietLog()), tc.req)
		if w.Code != tc.status {
			t.Errorf("%s: %d %q, want %d", tc.name, w.Code, w.Body, tc.status)
		}
		if len(rec.all()) != 0 {
			t.Errorf("%s: recorded %d events", tc.name, len(rec.all()))
		}
	}
}

func TestCallbackRecordFailureAnswers500(t *testing.T) {
	t.Parallel()
	c, fake := newPlainChannel(t)
	rec := &recorder{err: errors.New("database is down")}
	w := serve(t, c.CallbackHandler(rec.record, quietLog()), fake.SignedCallback(wechatfake.TextXML("o", "hi", 9), false))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), "success") {
		t.Fatalf("%d %q", w.Code, w.Body)
	}
}

// FuzzCallback sends arbitrary bodies with a valid signature: the handler
// must not panic, and answers 400 (or 413) or records well-formed events.
func FuzzCallback(f *testing.F) {
	f.Add(wechatfake.TextXML("o", "hi", 1))
	f.Add(wechatfake.EventXML("o", "subscribe", time.Now()))
	f.Add(wechatfake.TemplateFinishXML("o", 5, "success"))
	f.Add("<xml><MsgType>event</MsgType><Event>TEMPLATESENDJOBFINISH</Event><FromUserName>o</FromUserName></xml>")
	f.Add("<xml><CreateTime>abc</CreateTime></xml>")
	f.Add("")
	f.Add("<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]><xml>&a;</xml>")
	c, fake := newPlainChannel(f)
	token := fake.Token
	f.Fuzz(func(t *testing.T, body string) {
		rec := &recorder{}
		w := httptest.NewRecorder()
		c.CallbackHandler(rec.record, quietLog()).ServeHTTP(w, wechatfake.Callback{Token: token, Body: body}.Request())
		switch w.Code {
		case http.StatusOK:
			for _, e := range rec.all() {
				if e.Channel != channels.WeChat || e.Kind == "" || e.DedupKey == "" || e.From.OpenID == "" {
					t.Fatalf("bad event %+v", e)
				}
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(rec.all()) != 0 {
				t.Fatal("recorded on error")
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}
