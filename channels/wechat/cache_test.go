package wechat

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/queue/queuetest"
)

func TestTokenCache(t *testing.T) {
	t.Run("embedded", func(t *testing.T) {
		mr := miniredis.RunT(t)
		testTokenCache(t, redis.NewClient(&redis.Options{Addr: mr.Addr()}))
	})
	t.Run("redis", func(t *testing.T) {
		opt, err := redis.ParseURL(queuetest.RedisURL(t)) // skips without TEST_REDIS_URL
		if err != nil {
			t.Fatal(err)
		}
		testTokenCache(t, redis.NewClient(opt))
	})
}

func testTokenCache(t *testing.T, rdb redis.UniversalClient) {
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	c := &tokenCache{rdb: rdb, prefix: "handover:wechat:"}

	if v := c.Get("k"); v != nil { // an untyped nil: the SDK checks val != nil
		t.Fatalf("miss = %#v", v)
	}
	if c.IsExist("k") {
		t.Fatal("IsExist on a miss")
	}
	if err := c.Set("k", "tok-1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("k").(string); !ok || v != "tok-1" {
		t.Fatalf("hit = %#v", c.Get("k"))
	}
	if got := rdb.Get(ctx, "handover:wechat:k").Val(); got != "tok-1" {
		t.Fatalf("not stored under the prefix: %q", got)
	}
	if ttl := rdb.TTL(ctx, "handover:wechat:k").Val(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("ttl %v", ttl)
	}
	if err := c.Set("b", []byte("bytes"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("b").(string); !ok || v != "bytes" {
		t.Fatalf("[]byte came back as %#v", c.Get("b"))
	}
	if err := c.Set("n", 42, time.Minute); err == nil {
		t.Fatal("non-string stored")
	}
	if err := c.Set("z", "t", -5*time.Second); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.TTL(ctx, "handover:wechat:z").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("non-positive ttl stored as %v", ttl)
	}
	if !c.IsExist("k") {
		t.Fatal("IsExist on a hit")
	}
	if err := c.deleteIf("k", "tok-other"); err != nil || c.Get("k") == nil {
		t.Fatalf("deleteIf dropped another token: %v", err)
	}
	if err := c.deleteIf("k", "tok-1"); err != nil || c.Get("k") != nil {
		t.Fatalf("deleteIf kept the rejected token: %v", err)
	}
	if err := c.Set("k", "tok-2", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete("k"); err != nil || c.IsExist("k") {
		t.Fatalf("Delete: %v", err)
	}
}

func TestTokenCacheRedisDown(t *testing.T) {
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1})
	defer rdb.Close()
	c := &tokenCache{rdb: rdb, prefix: "p:"}
	mr.Close()
	if v := c.Get("k"); v != nil {
		t.Fatalf("Get on a dead Redis = %#v, want nil (the SDK then fetches a token)", v)
	}
}
