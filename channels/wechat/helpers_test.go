package wechat_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/channels/wechat/wechatfake"
)

// testTimeout is every test's HTTP timeout: the SDK client is global, so
// all channels of this test binary must agree on it.
const testTimeout = time.Second

// newChannel returns a channel talking to a fresh fake account, with its
// token cached in a fresh miniredis, in safe mode (EncodingAESKey set).
func newChannel(t testing.TB) (*wechat.Channel, *wechatfake.Server) {
	t.Helper()
	return newChannelMode(t, true)
}

// newPlainChannel is newChannel without an EncodingAESKey: plain pushes.
func newPlainChannel(t testing.TB) (*wechat.Channel, *wechatfake.Server) {
	t.Helper()
	return newChannelMode(t, false)
}

func newChannelMode(t testing.TB, safeMode bool) (*wechat.Channel, *wechatfake.Server) {
	t.Helper()
	fake := wechatfake.New(t)
	aesKey := ""
	if safeMode {
		aesKey = fake.EncodingAESKey
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { rdb.Close() })
	c, err := wechat.New(wechat.Config{
		AppID: fake.AppID, AppSecret: fake.AppSecret, Token: fake.Token,
		EncodingAESKey: aesKey, APIBase: fake.URL(), HTTPTimeout: testTimeout,
	}, rdb, "handover:test:")
	if err != nil {
		t.Fatal(err)
	}
	return c, fake
}

// recorder is a RecordFunc that keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []channels.InboundEvent
	err    error
}

func (r *recorder) record(_ context.Context, events []channels.InboundEvent) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.events = append(r.events, events...)
	return len(events), nil
}

func (r *recorder) all() []channels.InboundEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.InboundEvent(nil), r.events...)
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func notice(id, openID string) channels.Message {
	return channels.Message{
		DeliveryID: id, To: channels.Address{OpenID: openID}, Kind: channels.Notice,
		Link:     "https://handover.example/p/abc",
		Template: &channels.Template{TemplateID: "TPL-transfer", Params: map[string]string{"first": "您好", "keyword1": "张医生"}},
	}
}
