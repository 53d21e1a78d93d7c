// Package sms is the Aliyun SMS channel: it sends approved templates with
// SendSms and SendBatchSms through the official SDK (dysmsapi), classifies
// failures, serves the SmsReport and SmsUp push endpoints, and can poll
// delivery receipts with QuerySendDetails.
package sms

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aliyun/alibaba-cloud-sdk-go/sdk"
	"github.com/aliyun/alibaba-cloud-sdk-go/sdk/auth/credentials"
	"github.com/aliyun/alibaba-cloud-sdk-go/services/dysmsapi"

	"github.com/handoverhq/handover/channels"
)

// Defaults used when Config leaves a field empty.
const (
	DefaultEndpoint      = "dysmsapi.aliyuncs.com"
	DefaultTimeout       = 5 * time.Second
	DefaultMaxConcurrent = 8
	// region only picks the signing region; the endpoint is set explicitly.
	region = "cn-hangzhou"
)

// Config configures the channel. AccessKeyID, AccessKeySecret and SignName
// are required.
type Config struct {
	AccessKeyID     string // HANDOVER_ALIYUN_ACCESS_KEY_ID
	AccessKeySecret string // HANDOVER_ALIYUN_ACCESS_KEY_SECRET
	// Endpoint is host[:port] (HANDOVER_ALIYUN_SMS_ENDPOINT), default
	// dysmsapi.aliyuncs.com.
	Endpoint string
	// Scheme is "https" (default) or "http" (local fake only).
	Scheme string
	// SignName is the default approved sign name (HANDOVER_SMS_SIGN_NAME);
	// a message's Template.SignName overrides it.
	SignName string
	// Timeout bounds one API call, connect included (default 5 s). Keep it
	// far below the queue task timeout.
	Timeout time.Duration
	// MaxConcurrent is how many API calls may be in flight at once (default
	// 8): each uses its own SDK client, which is not goroutine-safe.
	MaxConcurrent int
}

// Channel sends SMS through Aliyun. It is safe for concurrent use.
type Channel struct {
	cfg     Config
	clients chan *sdkClient
}

var _ channels.Channel = (*Channel)(nil)

// New checks cfg and builds the channel and its pool of SDK clients. It
// makes no network call.
func New(cfg Config) (*Channel, error) {
	var missing []string
	if cfg.AccessKeyID == "" {
		missing = append(missing, "HANDOVER_ALIYUN_ACCESS_KEY_ID")
	}
	if cfg.AccessKeySecret == "" {
		missing = append(missing, "HANDOVER_ALIYUN_ACCESS_KEY_SECRET")
	}
	if cfg.SignName == "" {
		missing = append(missing, "HANDOVER_SMS_SIGN_NAME")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("sms: missing configuration: %s", strings.Join(missing, ", "))
	}
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if strings.Contains(cfg.Endpoint, "/") {
		return nil, fmt.Errorf("sms: HANDOVER_ALIYUN_SMS_ENDPOINT must be host[:port], without scheme or path")
	}
	cfg.Scheme = strings.ToLower(cfg.Scheme)
	if cfg.Scheme == "" {
		cfg.Scheme = "https"
	}
	if cfg.Scheme != "https" && cfg.Scheme != "http" {
		return nil, fmt.Errorf("sms: scheme must be https or http, not %q", cfg.Scheme)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxConcurrent <= 0 {
		cfg.MaxConcurrent = DefaultMaxConcurrent
	}

	// One transport shared by all clients: the SDK only rewrites transports
	// of type *http.Transport, and ours is wrapped, so nothing writes to it.
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: cfg.Timeout,
		MaxIdleConnsPerHost: cfg.MaxConcurrent,
		IdleConnTimeout:     90 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	c := &Channel{cfg: cfg, clients: make(chan *sdkClient, cfg.MaxConcurrent)}
	for range cfg.MaxConcurrent {
		cl, err := newSDKClient(cfg, transport)
		if err != nil {
			return nil, fmt.Errorf("sms: create Aliyun client: %w", err)
		}
		c.clients <- cl
	}
	return c, nil
}

// Name returns channels.SMS.
func (c *Channel) Name() channels.Name { return channels.SMS }

// Capabilities reports templated notices and replies, 100 numbers per
// SendBatchSms call.
func (c *Channel) Capabilities() channels.Capabilities {
	return channels.Capabilities{MaxBatch: 100, MaxText: 500, Notices: true, Replies: true}
}

// sdkClient is one SDK client, used by one goroutine at a time.
type sdkClient struct {
	*dysmsapi.Client
	rt *ctxTransport
}

func newSDKClient(cfg Config, base *http.Transport) (*sdkClient, error) {
	rt := &ctxTransport{base: base}
	sc := sdk.NewConfig()
	sc.AutoRetry = false // SendSms is not idempotent
	sc.Scheme = strings.ToUpper(cfg.Scheme)
	sc.Transport = rt
	sc.Timeout = cfg.Timeout
	cl, err := dysmsapi.NewClientWithOptions(region, sc,
		credentials.NewAccessKeyCredential(cfg.AccessKeyID, cfg.AccessKeySecret))
	if err != nil {
		return nil, err
	}
	cl.Domain = cfg.Endpoint
	cl.SetReadTimeout(cfg.Timeout)
	cl.SetConnectTimeout(cfg.Timeout)
	return &sdkClient{Client: cl, rt: rt}, nil
}

// ctxTransport gives the SDK's requests, which carry no context, the
// caller's context, so cancellation and Config.Timeout reach the socket.
type ctxTransport struct {
	base *http.Transport
	ctx  context.Context // set while its client is checked out
}

func (t *ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.ctx != nil {
		r = r.WithContext(t.ctx)
	}
	return t.base.RoundTrip(r)
}

// do runs one SDK call on a pooled client under ctx and Config.Timeout.
func (c *Channel) do(ctx context.Context, call func(*dysmsapi.Client) error) error {
	var cl *sdkClient
	select {
	case cl = <-c.clients:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { c.clients <- cl }()
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	cl.rt.ctx = ctx
	defer func() { cl.rt.ctx = nil }()
	return call(cl.Client)
}
