package wechat_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat"
)

func TestNewNamesMissingSettings(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer rdb.Close()
	_, err := wechat.New(wechat.Config{Token: "x"}, rdb, "p:")
	if err == nil || !strings.Contains(err.Error(), "HANDOVER_WECHAT_APP_ID") || !strings.Contains(err.Error(), "HANDOVER_WECHAT_APP_SECRET") {
		t.Fatalf("err = %v", err)
	}
	_, err = wechat.New(wechat.Config{AppID: "a", AppSecret: "b", Token: "c", EncodingAESKey: "short"}, rdb, "p:")
	if err == nil || !strings.Contains(err.Error(), "HANDOVER_WECHAT_AES_KEY") {
		t.Fatalf("err = %v", err)
	}
	_, err = wechat.New(wechat.Config{AppID: "a", AppSecret: "b", Token: "c"}, nil, "p:")
	if err == nil {
		t.Fatal("nil Redis accepted")
	}
}

func TestNewRefusesSecondAPIBase(t *testing.T) {
	newChannel(t) // installs the fake's APIBase
	rdb := redis.NewClient(&redis.Options{Addr: miniredis.RunT(t).Addr()})
	defer rdb.Close()
	_, err := wechat.New(wechat.Config{AppID: "a", AppSecret: "b", Token: "c", APIBase: "http://127.0.0.1:1"}, rdb, "p:")
	if err == nil || !strings.Contains(err.Error(), "APIBase") {
		t.Fatalf("err = %v", err)
	}
}

func TestSendTemplate(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	res := c.Send(context.Background(), []channels.Message{notice("dlv-1", "openid-1"), notice("dlv-2", "openid-2")})
	for _, r := range res {
		if r.Err != nil || r.ProviderID == "" {
			t.Fatalf("result %+v", r)
		}
	}
	sent := fake.Sent()
	if len(sent) != 2 {
		t.Fatalf("sent %d", len(sent))
	}
	byID := map[string]string{}
	for _, s := range sent {
		byID[s.ClientMsgID] = s.ToUser
		if s.API != "template" || s.TemplateID != "TPL-transfer" || s.URL != "https://handover.example/p/abc" || s.Data["keyword1"] != "张医生" {
			t.Fatalf("sent %+v", s)
		}
	}
	if byID["dlv-1"] != "openid-1" || byID["dlv-2"] != "openid-2" {
		t.Fatalf("client_msg_id → openid: %v", byID)
	}
	if res[0].DeliveryID != "dlv-1" || res[1].DeliveryID != "dlv-2" {
		t.Fatalf("order: %+v", res)
	}
	// A retried delivery carries the same ClientMsgID: WeChat sends it once.
	again := c.Send(context.Background(), []channels.Message{notice("dlv-1", "openid-1")})
	if again[0].Err != nil || again[0].ProviderID != res[0].ProviderID || len(fake.Sent()) != 2 {
		t.Fatalf("resend: %+v, sent %d", again[0], len(fake.Sent()))
	}
	if fake.TokenFetches() != 1 {
		t.Fatalf("token fetched %d times; want 1 (cached)", fake.TokenFetches())
	}
}

func TestSendSubscribe(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	m := notice("dlv-s", "openid-s")
	m.Template.Subscribe = true
	m.Template.TemplateID = "SUB-1"
	res := c.Send(context.Background(), []channels.Message{m})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	s := fake.Sent()
	if len(s) != 1 || s[0].API != "subscribe" || s[0].TemplateID != "SUB-1" || s[0].Page != m.Link || s[0].Data["first"] != "您好" {
		t.Fatalf("sent %+v", s)
	}
}

func TestSendReply(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	m := channels.Message{DeliveryID: "dlv-r", To: channels.Address{OpenID: "openid-r"}, Kind: channels.Reply,
		Text: "您好，已为您转诊。", Link: "https://handover.example/p/r"}
	res := c.Send(context.Background(), []channels.Message{m})
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	s := fake.Sent()
	if len(s) != 1 || s[0].API != "custom" || s[0].ToUser != "openid-r" || s[0].Text != m.Text+"\n"+m.Link {
		t.Fatalf("sent %+v", s)
	}
}

func TestSendRejectsBeforeCalling(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	long := channels.Message{DeliveryID: "d3", To: channels.Address{OpenID: "o"}, Kind: channels.Reply, Text: strings.Repeat("字", 601)}
	noTemplate := channels.Message{DeliveryID: "d2", To: channels.Address{OpenID: "o"}, Kind: channels.Notice}
	noOpenID := notice("d1", "")
	res := c.Send(context.Background(), []channels.Message{noOpenID, noTemplate, long})
	want := []channels.Class{channels.RecipientInvalid, channels.Permanent, channels.Permanent}
	for i, r := range res {
		if got := channels.Classify(r.Err); got != want[i] {
			t.Errorf("message %d: %v, want %s", i, r.Err, want[i])
		}
	}
	if !strings.Contains(res[0].Err.Error(), "customer has no WeChat openid") {
		t.Errorf("err = %v", res[0].Err)
	}
	if len(fake.Sent()) != 0 {
		t.Fatal("something was sent")
	}
}

func TestSendClassifiesErrcodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code  int
		reply bool
		class channels.Class
	}{
		{45015, true, channels.RecipientInvalid},
		{43004, false, channels.RecipientInvalid},
		{40003, false, channels.RecipientInvalid},
		{45009, false, channels.RateLimited},
		{45047, true, channels.RateLimited},
		{-1, false, channels.Transient},
		{40037, false, channels.Permanent},
		{48001, false, channels.Permanent},
	}
	c, fake := newChannel(t)
	for _, tc := range cases {
		openID := "o-errcode" + strconv.Itoa(tc.code)
		fake.FailFor(openID, tc.code)
		m := notice("d", openID)
		if tc.reply {
			m = channels.Message{DeliveryID: "d", To: channels.Address{OpenID: openID}, Kind: channels.Reply, Text: "hi"}
		}
		err := c.Send(context.Background(), []channels.Message{m})[0].Err
		var se *channels.SendError
		if !errors.As(err, &se) || se.Class != tc.class || se.Code != strconv.Itoa(tc.code) {
			t.Errorf("errcode %d: %v, want %s", tc.code, err, tc.class)
			continue
		}
		if tc.class == channels.RateLimited && se.RetryAfter <= 0 {
			t.Errorf("errcode %d: no RetryAfter", tc.code)
		}
		if strings.Contains(err.Error(), openID) {
			t.Errorf("errcode %d: openid in error %q", tc.code, err)
		}
	}
}

func TestSendSubscribeErrorIsClassified(t *testing.T) { // *util.CommonError path
	t.Parallel()
	c, fake := newChannel(t)
	fake.FailFor("o-refused", 43101)
	m := notice("d", "o-refused")
	m.Template.Subscribe = true
	err := c.Send(context.Background(), []channels.Message{m})[0].Err
	if channels.Classify(err) != channels.RecipientInvalid || !strings.Contains(err.Error(), "43101") {
		t.Fatalf("err = %v", err)
	}
}

func TestSendDropsRejectedTokenAndRetriesOnce(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	if r := c.Send(context.Background(), []channels.Message{notice("d1", "o1")}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	fake.ExpireToken() // the cached token now answers 40001
	r := c.Send(context.Background(), []channels.Message{notice("d2", "o2")})
	if r[0].Err != nil {
		t.Fatalf("after expiry: %v", r[0].Err)
	}
	if fake.TokenFetches() != 2 || len(fake.Sent()) != 2 {
		t.Fatalf("fetches %d, sent %d", fake.TokenFetches(), len(fake.Sent()))
	}

	// Rejected twice: one retry only, then Permanent.
	fake.FailNext(2, 40001)
	err := c.Send(context.Background(), []channels.Message{notice("d3", "o3")})[0].Err
	if channels.Classify(err) != channels.Permanent || !strings.Contains(err.Error(), "40001") {
		t.Fatalf("err = %v", err)
	}
	if r := c.Send(context.Background(), []channels.Message{notice("d4", "o4")}); r[0].Err != nil {
		t.Fatalf("a third attempt was made: %v", r[0].Err)
	}
}

func TestSendErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	// The token fetch fails: the SDK's error has the URL with the secret.
	fake.StatusNext(1, http.StatusInternalServerError)
	err := c.Send(context.Background(), []channels.Message{notice("d1", "o1")})[0].Err
	if channels.Classify(err) != channels.Transient {
		t.Fatalf("err = %v", err)
	}
	assertClean(t, err.Error(), fake.AppSecret, "secret=REDACTED")

	if r := c.Send(context.Background(), []channels.Message{notice("d2", "o2")}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	// The send fails: the SDK's error has the URL with the access token.
	fake.StatusNext(1, http.StatusBadGateway)
	err = c.Send(context.Background(), []channels.Message{notice("d3", "o3")})[0].Err
	if channels.Classify(err) != channels.Transient {
		t.Fatalf("err = %v", err)
	}
	assertClean(t, err.Error(), fake.AccessToken(), "access_token=REDACTED")
	assertClean(t, err.Error(), fake.AppSecret, "")
}

func assertClean(t *testing.T, msg, secret, marker string) {
	t.Helper()
	if secret == "" {
		t.Fatal("no secret to look for")
	}
	if strings.Contains(msg, secret) {
		t.Fatalf("error leaks a secret: %q", msg)
	}
	if marker != "" && !strings.Contains(msg, marker) {
		t.Fatalf("error %q lacks %q", msg, marker)
	}
}

func TestSendTimeoutIsTransient(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	fake.SetDelay(testTimeout + 300*time.Millisecond)
	err := c.Send(context.Background(), []channels.Message{notice("d1", "o1")})[0].Err
	if channels.Classify(err) != channels.Transient {
		t.Fatalf("err = %v", err)
	}
	assertClean(t, err.Error(), fake.AppSecret, "")
}

func TestSendCancelled(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := c.Send(ctx, []channels.Message{notice("d1", "o1")})
	if channels.Classify(res[0].Err) != channels.Transient || len(fake.Sent()) != 0 {
		t.Fatalf("res %+v", res)
	}
}

func TestOAuth(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	u, err := c.OAuthRedirectURL("https://handover.example/portal/cb?x=1", "abc123")
	if err != nil || !strings.Contains(u, "scope=snsapi_base") || !strings.Contains(u, "state=abc123") ||
		!strings.Contains(u, "appid="+fake.AppID) || !strings.Contains(u, "redirect_uri=https%3A%2F%2Fhandover.example") {
		t.Fatalf("url %q, err %v", u, err)
	}
	for _, bad := range []string{"", "a&b", "a b", strings.Repeat("a", 129)} {
		if _, err := c.OAuthRedirectURL("https://handover.example/cb", bad); err == nil {
			t.Errorf("state %q accepted", bad)
		}
	}
	if _, err := c.OAuthRedirectURL("/relative", "s"); err == nil {
		t.Error("relative redirect accepted")
	}

	fake.AddOAuthCode("code1", "openid-portal", false)
	fake.AddOAuthCode("code2", "openid-snap", true)
	ctx := context.Background()
	if id, err := c.OpenIDFromCode(ctx, "code1"); err != nil || id != "openid-portal" {
		t.Fatalf("openid %q, err %v", id, err)
	}
	if _, err := c.OpenIDFromCode(ctx, "code2"); !errors.Is(err, wechat.ErrSnapshotUser) {
		t.Fatalf("snapshot user: %v", err)
	}
	_, err = c.OpenIDFromCode(ctx, "code1") // used
	if err == nil || !strings.Contains(err.Error(), "40163") {
		t.Fatalf("reused code: %v", err)
	}
	fake.StatusNext(1, http.StatusInternalServerError)
	_, err = c.OpenIDFromCode(ctx, "code3")
	if err == nil || strings.Contains(err.Error(), fake.AppSecret) || strings.Contains(err.Error(), "code3") {
		t.Fatalf("error not redacted: %v", err)
	}
	if _, err := c.OpenIDFromCode(ctx, "x&appid=evil"); err == nil {
		t.Fatal("malformed code accepted")
	}
}

func TestSendBatchRefreshesTokenOnce(t *testing.T) {
	t.Parallel()
	c, fake := newChannel(t)
	if r := c.Send(context.Background(), []channels.Message{notice("warm", "o")}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	fake.ExpireToken()
	batch := make([]channels.Message, c.Capabilities().MaxBatch)
	for i := range batch {
		batch[i] = notice("dlv-"+strconv.Itoa(i), "o-"+strconv.Itoa(i))
	}
	for _, r := range c.Send(context.Background(), batch) {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.DeliveryID, r.Err)
		}
	}
	// Concurrent sends all saw 40001; only the rejected token was dropped.
	if n := fake.TokenFetches(); n != 2 {
		t.Fatalf("token fetched %d times, want 2", n)
	}
}
