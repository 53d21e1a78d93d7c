package web_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web"
)

// wechatChannel is a WeChat channel on a fresh fake, on q's Redis.
func wechatChannel(t *testing.T, q *queue.Queue) (*wechat.Channel, *wechatfake.Server) {
	t.Helper()
	fake := wechatfake.New(t)
	wc, err := wechat.New(wechat.Config{AppID: fake.AppID, AppSecret: fake.AppSecret, Token: fake.Token,
		APIBase: fake.URL(), HTTPTimeout: time.Second}, q.Redis, "handover:test:")
	if err != nil {
		t.Fatal(err)
	}
	return wc, fake
}

// wechatApp is an app with a WeChat channel on a fresh fake.
func wechatApp(t *testing.T, db *database.DB) (*app, *wechatfake.Server) {
	q := queuetest.Embedded(t)
	wc, fake := wechatChannel(t, q)
	return newAppWith(t, db, q, func(d *web.Deps) { d.WeChat = wc }), fake
}

// wechatGet opens path in v as WeChat's browser does.
func (v *visitor) wechatGet(path string) *http.Response {
	v.a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, v.a.url+path, nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50")
	resp, err := v.client.Do(req)
	if err != nil {
		v.a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// oauthOut opens the link in WeChat and returns the state the redirect
// to WeChat's OAuth carries.
func (v *visitor) oauthOut(token string) string {
	v.a.t.Helper()
	resp := v.wechatGet("/l/" + token)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc.Host != "open.weixin.qq.com" || loc.Query().Get("scope") != "snsapi_base" ||
		!strings.HasSuffix(loc.Query().Get("redirect_uri"), "/l/"+token) || loc.Query().Get("state") == "" {
		v.a.t.Fatalf("first open in WeChat: %d %s", resp.StatusCode, loc)
	}
	return loc.Query().Get("state")
}

// TestPortalWeChatOAuth: a link opened inside WeChat goes once through
// snsapi_base OAuth with a random state, and the openid WeChat names is
// bound to a customer who had none.
func TestPortalWeChatOAuth(t *testing.T) {
	a, fake := wechatApp(t, dbtest.SQLite(t))
	ids, transfer := a.seedPortal()
	token, l := a.issue(ids[0], transfer)
	v := a.visitor()
	state := v.oauthOut(token)
	if state == l.ID || strings.Contains(state, l.ID) {
		t.Fatalf("the OAuth state %q is the link id", state)
	}
	fake.AddOAuthCode("code123", "oOPENID-portal-1", false)
	if resp := v.wechatGet("/l/" + token + "?code=code123&state=" + state); resp.StatusCode != http.StatusOK {
		t.Fatalf("back from OAuth: %d", resp.StatusCode)
	}
	cu, err := a.customers.FindCustomerByID(context.Background(), ids[0])
	if err != nil || cu.WeChatOpenID != "oOPENID-portal-1" {
		t.Fatalf("openid not bound: %v", err)
	}
	if id, _ := a.customers.MatchContact(context.Background(), "oOPENID-portal-1", "", ""); id != ids[0] {
		t.Fatalf("blind index finds %q", id)
	}
	if n := len(a.auditActions("customer.bind_address")); n != 1 {
		t.Fatalf("%d bind audit entries, want 1", n)
	}
	if resp := v.wechatGet("/l/" + token); resp.StatusCode != http.StatusOK {
		t.Fatalf("second open: %d (sent through OAuth again)", resp.StatusCode)
	}
	got, _ := a.links.FindLinkByID(context.Background(), l.ID)
	if got.OpenCount != 2 {
		t.Fatalf("open count %d, want 2 (the OAuth return is the same open)", got.OpenCount)
	}
}

// TestPortalWeChatTakeOver reproduces the take-over of issue #14 (1): a
// GET of /l/{token}?code=X&state=<link id> from WeChat's browser used to
// replace the customer's openid, even one imported from the CRM. Now a
// state this browser was not given binds nothing, a customer's openid is
// never replaced on the spot (the offer waits for staff, who approve or
// reject it, audited), and an openid of another customer is refused.
func TestPortalWeChatTakeOver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		a, fake := wechatApp(t, db)
		path := filepath.Join(t.TempDir(), "crm.csv")
		if err := os.WriteFile(path, []byte("姓名,手机,openid\n张三,13812345678,oCRM-victim\n李四,13900001111,oCRM-other\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := a.importer.Run(ctx, path, nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		victim, _ := a.customers.MatchContact(ctx, "oCRM-victim", "", "")
		other, _ := a.customers.MatchContact(ctx, "oCRM-other", "", "")
		tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸", BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
			Purposes: []string{"订单履行"}, DataCategories: []string{"name"}, RetentionDays: 90}
		if victim == "" || other == "" || a.transfers.CreateTransfer(ctx, tr, "cli") != nil {
			t.Fatal("seed")
		}
		token, l := a.issue(victim, tr.ID)
		openID := func() string {
			cu, err := a.customers.FindCustomerByID(ctx, victim)
			if err != nil {
				t.Fatal(err)
			}
			return cu.WeChatOpenID
		}

		// The attack as reported: a fresh browser, the state the link id.
		fake.AddOAuthCode("attacker1", "oATTACKER", false)
		if resp := a.visitor().wechatGet("/l/" + token + "?code=attacker1&state=" + l.ID); resp.StatusCode != http.StatusOK {
			t.Fatalf("forged return: %d", resp.StatusCode)
		}
		if got := openID(); got != "oCRM-victim" {
			t.Fatalf("forged return replaced the openid with %q", got)
		}

		// The attacker's own WeChat going the whole way round: queued, not bound.
		v := a.visitor()
		state := v.oauthOut(token)
		fake.AddOAuthCode("attacker2", "oATTACKER", false)
		v.wechatGet("/l/" + token + "?code=attacker2&state=" + state)
		if got := openID(); got != "oCRM-victim" {
			t.Fatalf("OAuth round trip replaced the openid with %q", got)
		}
		if id, _ := a.customers.MatchContact(ctx, "oATTACKER", "", ""); id != "" {
			t.Fatal("the attacker's openid finds the customer")
		}
		pending, _, err := a.customers.FindWeChatBindRequests(ctx, "", "", 200)
		if err != nil || len(pending) != 1 || pending[0].CustomerID != victim || strings.Contains(pending[0].Proposed, "ATTACKER") {
			t.Fatalf("review queue: %+v, %v", pending, err)
		}
		if n := len(a.auditActions("customer.wechat_bind_queued")); n != 1 {
			t.Fatalf("%d queued audit entries", n)
		}

		// Another customer's openid is refused, and audited.
		w := a.visitor()
		state = w.oauthOut(token)
		fake.AddOAuthCode("attacker3", "oCRM-other", false)
		w.wechatGet("/l/" + token + "?code=attacker3&state=" + state)
		if got := openID(); got != "oCRM-victim" {
			t.Fatalf("another customer's openid was bound: %q", got)
		}
		if n := len(a.auditActions("customer.bind_refused")); n != 1 {
			t.Fatalf("%d refusal audit entries", n)
		}
		if _, err := a.customers.BindAddress(ctx, customers.Binding{CustomerID: victim, Address: channels.Address{OpenID: "oCRM-other"},
			Replace: true, Source: customers.BindSourceTicketLink, Actor: "staff:x"}); err != customers.ErrAddressTaken {
			t.Fatalf("binding another customer's openid: %v", err)
		}

		// Staff reject the queued offer: nothing changes, the decision is audited.
		if _, err := a.customers.DecideWeChatBind(ctx, pending[0].ID, false, "staff:reviewer", "not the customer"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.customers.DecideWeChatBind(ctx, pending[0].ID, true, "staff:reviewer", ""); err == nil {
			t.Fatal("a rejected request was approved")
		}
		if got := openID(); got != "oCRM-victim" || len(a.auditActions("customer.wechat_bind_rejected")) != 1 {
			t.Fatalf("after rejection: %q", got)
		}
	})
}

var sixDigits = regexp.MustCompile(`\d{6}`)

// TestPortalMyDataByWeChat: a customer known only by WeChat gets the code
// to see their data as a WeChat customer-service message, and it works.
func TestPortalMyDataByWeChat(t *testing.T) {
	ctx := context.Background()
	q := queuetest.Embedded(t)
	wc, fake := wechatChannel(t, q)
	a := newAppWith(t, dbtest.SQLite(t), q, func(d *web.Deps) {
		d.WeChat = wc
		d.SendCode = rights.ChannelSender(map[channels.Name]channels.Channel{channels.WeChat: wc}, "")
	})
	path := filepath.Join(t.TempDir(), "wx.csv")
	if err := os.WriteFile(path, []byte("姓名,openid\n赵六,oWeChatOnly\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := a.importer.Run(ctx, path, nil, "cli", nil); err != nil {
		t.Fatal(err)
	}
	id, _ := a.customers.MatchContact(ctx, "oWeChatOnly", "", "")
	tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸", BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
		Purposes: []string{"订单履行"}, DataCategories: []string{"name"}, RetentionDays: 90}
	if id == "" || a.transfers.CreateTransfer(ctx, tr, "cli") != nil {
		t.Fatal("seed")
	}
	token, _ := a.issue(id, tr.ID)
	base := "/l/" + token
	v := a.visitor()
	if code, body := v.get(base + "/mydata"); code != http.StatusOK || !strings.Contains(body, `id="via-wechat"`) || strings.Contains(body, "oWeChatOnly") {
		t.Fatalf("start: %d\n%s", code, body)
	}
	csrf := v.form(base + "/mydata")
	status, _, h := v.post(base+"/mydata/code", url.Values{"_csrf": {csrf}, "via": {"wechat"}})
	if status != http.StatusSeeOther {
		t.Fatalf("send code: %d", status)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].API != "custom" || sent[0].ToUser != "oWeChatOnly" || !sixDigits.MatchString(sent[0].Text) {
		t.Fatalf("wechat sent %+v", sent)
	}
	_, body := v.get(strings.TrimPrefix(h.Get("Location"), a.url))
	m := challengeRE.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "您的微信") {
		t.Fatalf("code step:\n%s", body)
	}
	status, _, _ = v.post(base+"/mydata/verify", url.Values{"_csrf": {csrf}, "c": {m[1]}, "via": {"wechat"}, "code": {sixDigits.FindString(sent[0].Text)}})
	if status != http.StatusSeeOther {
		t.Fatalf("verify: %d", status)
	}
	if code, body := v.get(base + "/mydata"); code != http.StatusOK || !strings.Contains(body, "赵六") {
		t.Fatalf("data page: %d\n%s", code, body)
	}
}

// TestPortalMyDataByWeChatOutsideWindow: WeChat refuses the code (45015,
// the 48-hour window is over): the page says what to do instead.
func TestPortalMyDataByWeChatOutsideWindow(t *testing.T) {
	q := queuetest.Embedded(t)
	wc, fake := wechatChannel(t, q)
	a := newAppWith(t, dbtest.SQLite(t), q, func(d *web.Deps) {
		d.SendCode = rights.ChannelSender(map[channels.Name]channels.Channel{channels.WeChat: wc}, "")
	})
	ctx := context.Background()
	ids, transfer := a.seedPortal()
	if _, err := a.customers.BindAddress(ctx, customers.Binding{CustomerID: ids[0], Address: channels.Address{OpenID: "oLate"},
		Source: customers.BindSourcePortalOAuth, Actor: "customer:" + ids[0]}); err != nil {
		t.Fatal(err)
	}
	token, _ := a.issue(ids[0], transfer)
	v := a.visitor()
	csrf := v.form("/l/" + token + "/mydata")
	fake.FailFor("oLate", 45015)
	status, body, _ := v.post("/l/"+token+"/mydata/code", url.Values{"_csrf": {csrf}, "via": {"wechat"}})
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "公众号") {
		t.Fatalf("code outside the window: %d\n%s", status, body)
	}
}
