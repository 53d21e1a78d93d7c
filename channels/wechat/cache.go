package wechat

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// cacheTimeout bounds one Redis call: the SDK's cache interface takes no
// context.
const cacheTimeout = 2 * time.Second

// tokenCache implements the SDK's cache.Cache on go-redis v9, under a key
// prefix. Get returns nil on a miss (or a Redis error: the SDK then fetches
// a fresh token) and a string on a hit; the SDK type-asserts to string.
type tokenCache struct {
	rdb    redis.UniversalClient
	prefix string
}

func (c *tokenCache) Get(key string) any {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	v, err := c.rdb.Get(ctx, c.prefix+key).Result()
	if err != nil {
		return nil
	}
	return v
}

func (c *tokenCache) Set(key string, val any, ttl time.Duration) error {
	var s string
	switch v := val.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("wechat: token cache stores strings, not %T", val)
	}
	// The SDK subtracts a safety margin from expires_in; a short-lived
	// token can leave nothing. Redis takes 0 as "never expire": keep a
	// minute instead (a stale token is dropped on 40001 anyway).
	if ttl <= 0 {
		ttl = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	return c.rdb.Set(ctx, c.prefix+key, s, ttl).Err()
}

func (c *tokenCache) IsExist(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	n, err := c.rdb.Exists(ctx, c.prefix+key).Result()
	return err == nil && n > 0
}

func (c *tokenCache) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	return c.rdb.Del(ctx, c.prefix+key).Err()
}

// deleteIfScript deletes a key only while it holds the given value.
var deleteIfScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end
return 0`)

// deleteIf drops key only if it still holds val, so a token another worker
// has just refreshed is not thrown away with the rejected one.
func (c *tokenCache) deleteIf(key, val string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	return deleteIfScript.Run(ctx, c.rdb, []string{c.prefix + key}, val).Err()
}
