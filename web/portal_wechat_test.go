package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/web"
)

// TestPortalWeChatOAuth: a link opened inside WeChat goes once through
// snsapi_base OAuth and the openid WeChat names is bound to the customer.
func TestPortalWeChatOAuth(t *testing.T) {
	fake := wechatfake.New(t)
	q := queuetest.Embedded(t)
	wc, err := wechat.New(wechat.Config{AppID: fake.AppID, AppSecret: fake.AppSecret, Token: fake.Token,
		APIBase: fake.URL(), HTTPTimeout: time.Second}, q.Redis, "handover:test:")
	if err != nil {
		t.Fatal(err)
	}
	a := newAppWith(t, dbtest.SQLite(t), q, func(d *web.Deps) { d.WeChat = wc })
	ids, transfer := a.seedPortal()
	token, l := a.issue(ids[0], transfer)
	v := a.visitor()
	get := func(path string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, a.url+path, nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50")
		resp, err := v.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := get("/l/" + token)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "open.weixin.qq.com" || loc.Query().Get("scope") != "snsapi_base" ||
		loc.Query().Get("state") != l.ID || !strings.HasSuffix(loc.Query().Get("redirect_uri"), "/l/"+token) {
		t.Fatalf("first open in WeChat: %d %s", resp.StatusCode, loc)
	}
	fake.AddOAuthCode("code123", "oOPENID-portal-1", false)
	if resp := get("/l/" + token + "?code=code123&state=" + l.ID); resp.StatusCode != http.StatusOK {
		t.Fatalf("back from OAuth: %d", resp.StatusCode)
	}
	cu, err := a.customers.FindCustomerByID(context.Background(), ids[0])
	if err != nil || cu.WeChatOpenID != "oOPENID-portal-1" {
		t.Fatalf("openid not bound: %v", err)
	}
	if id, _ := a.customers.MatchContact(context.Background(), "oOPENID-portal-1", "", ""); id != ids[0] {
		t.Fatalf("blind index finds %q", id)
	}
	if resp := get("/l/" + token); resp.StatusCode != http.StatusOK {
		t.Fatalf("second open: %d (sent through OAuth again)", resp.StatusCode)
	}
	got, _ := a.links.FindLinkByID(context.Background(), l.ID)
	if got.OpenCount != 2 {
		t.Fatalf("open count %d, want 2 (the OAuth return is the same open)", got.OpenCount)
	}
}
