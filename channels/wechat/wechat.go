// Package wechat is the WeChat official-account channel: template and
// subscribe messages carry notices, customer-service messages carry staff
// replies, CallbackHandler receives what WeChat pushes to /hooks/wechat, and
// the OAuth helpers let the portal learn a customer's openid.
//
// It uses github.com/silenceper/wechat/v2, which sends every API call
// through the package variable util.DefaultHTTPClient to the hard-coded host
// api.weixin.qq.com. New installs, once per process, a client with a
// timeout whose transport rewrites that host to Config.APIBase. So one
// process talks to one APIBase with one HTTP timeout: a later New with
// another APIBase fails, and its HTTPTimeout is ignored.
package wechat

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/officialaccount"
	oaconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/officialaccount/oauth"
	"github.com/silenceper/wechat/v2/util"

	"github.com/handoverhq/handover/channels"
)

// DefaultAPIBase is WeChat's API host, the one the SDK has hard-coded.
const DefaultAPIBase = "https://api.weixin.qq.com"

// DefaultHTTPTimeout bounds every WeChat API call; the SDK's calls take no
// context, so this is the only bound they have.
const DefaultHTTPTimeout = 5 * time.Second

// Config is the official account's configuration.
type Config struct {
	AppID          string // HANDOVER_WECHAT_APP_ID
	AppSecret      string // HANDOVER_WECHAT_APP_SECRET
	Token          string // HANDOVER_WECHAT_TOKEN: callback signature token
	EncodingAESKey string // HANDOVER_WECHAT_AES_KEY: 43 characters, for safe mode (optional)
	// APIBase replaces https://api.weixin.qq.com (tests, proxies). One per process.
	APIBase string
	// HTTPTimeout bounds each API call (default 5 s). The first New's value wins.
	HTTPTimeout time.Duration
}

// Channel is the WeChat official-account channel. It is safe for
// concurrent use.
type Channel struct {
	cfg      Config
	cache    *tokenCache
	tokenKey string // the SDK's cache key of the access token, without our prefix
	// The SDK's lazy getters are not goroutine-safe: New calls each once.
	oa        *officialaccount.OfficialAccount
	template  *message.Template
	subscribe *message.Subscribe
	custom    *message.Manager
	oauth     *oauth.Oauth
}

var _ channels.Channel = (*Channel)(nil)

// New returns the channel. rdb caches the access token under keyPrefix,
// shared by every process of the deployment (WeChat allows one valid token
// per app at a time, give or take a five-minute overlap).
func New(cfg Config, rdb redis.UniversalClient, keyPrefix string) (*Channel, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if rdb == nil {
		return nil, errors.New("wechat: a Redis client is required for the access-token cache")
	}
	if err := installHTTPClient(cfg.APIBase, cfg.HTTPTimeout); err != nil {
		return nil, err
	}
	cache := &tokenCache{rdb: rdb, prefix: keyPrefix}
	oa := officialaccount.NewOfficialAccount(&oaconfig.Config{
		AppID:          cfg.AppID,
		AppSecret:      cfg.AppSecret,
		Token:          cfg.Token,
		EncodingAESKey: cfg.EncodingAESKey,
		Cache:          cache,
	})
	return &Channel{
		cfg:   cfg,
		cache: cache,
		// Mirrors credential.DefaultAccessToken's key format.
		tokenKey:  fmt.Sprintf("%s_access_token_%s", credential.CacheKeyOfficialAccountPrefix, cfg.AppID),
		oa:        oa,
		template:  oa.GetTemplate(),
		subscribe: oa.GetSubscribe(),
		custom:    oa.GetCustomerMessageManager(),
		oauth:     oa.GetOauth(),
	}, nil
}

func (cfg *Config) validate() error {
	var missing []string
	if cfg.AppID == "" {
		missing = append(missing, "HANDOVER_WECHAT_APP_ID")
	}
	if cfg.AppSecret == "" {
		missing = append(missing, "HANDOVER_WECHAT_APP_SECRET")
	}
	if cfg.Token == "" {
		missing = append(missing, "HANDOVER_WECHAT_TOKEN")
	}
	if len(missing) > 0 {
		return fmt.Errorf("wechat: %s must be set", strings.Join(missing, ", "))
	}
	if cfg.EncodingAESKey != "" && len(cfg.EncodingAESKey) != 43 {
		return errors.New("wechat: HANDOVER_WECHAT_AES_KEY must be 43 characters")
	}
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	u, err := url.Parse(cfg.APIBase)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("wechat: APIBase must be an http(s) URL")
	}
	if cfg.HTTPTimeout <= 0 {
		cfg.HTTPTimeout = DefaultHTTPTimeout
	}
	return nil
}

// Name implements channels.Channel.
func (c *Channel) Name() channels.Name { return channels.WeChat }

// Capabilities implements channels.Channel.
func (c *Channel) Capabilities() channels.Capabilities {
	return channels.Capabilities{MaxBatch: 50, MaxText: 600, Notices: true, Replies: true}
}

// The SDK's HTTP client is a process-wide global: set it once.
var httpClient struct {
	once sync.Once
	base string
}

func installHTTPClient(base string, timeout time.Duration) error {
	httpClient.once.Do(func() {
		httpClient.base = base
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 32 // a batch sends concurrently to one host
		var rt http.RoundTripper = tr
		if base != DefaultAPIBase {
			target, _ := url.Parse(base) // validated by Config.validate
			rt = &rewriteTransport{target: target, next: tr}
		}
		util.DefaultHTTPClient = &http.Client{Transport: rt, Timeout: timeout}
	})
	if httpClient.base != base {
		return fmt.Errorf("wechat: this process already sends WeChat API calls to another APIBase; only one is supported")
	}
	return nil
}

// rewriteTransport sends requests for api.weixin.qq.com to target.
type rewriteTransport struct {
	target *url.URL
	next   http.RoundTripper
}

func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != "api.weixin.qq.com" {
		return t.next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.URL.Scheme = t.target.Scheme
	r.URL.Host = t.target.Host
	r.URL.Path = t.target.Path + req.URL.Path
	r.URL.RawPath = ""
	r.Host = ""
	return t.next.RoundTrip(r)
}
