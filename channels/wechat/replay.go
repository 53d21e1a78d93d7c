package wechat

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// nonceTTL keeps a (timestamp, nonce) pair for as long as its timestamp
// can still pass the freshness check (maxCallbackAge either side of now).
const nonceTTL = 2*maxCallbackAge + time.Minute

// errReplayed is a signed (timestamp, nonce) pair already seen.
var errReplayed = errors.New("wechat callback: timestamp and nonce already used")

// claimNonce remembers a signed (timestamp, nonce) pair in Redis, shared by
// every process, and fails with errReplayed when it was already there: a
// signed query works once, so a captured one cannot carry another body.
func (c *Channel) claimNonce(ctx context.Context, timestamp, nonce string) error {
	ctx, cancel := context.WithTimeout(ctx, cacheTimeout)
	defer cancel()
	ok, err := c.cache.rdb.SetNX(ctx, c.nonceKey(timestamp, nonce), 1, nonceTTL).Result()
	if err != nil {
		return err
	}
	if !ok {
		return errReplayed
	}
	return nil
}

// releaseNonce forgets a claimed pair when the push could not be recorded,
// so that WeChat's retry of the same push gets through.
func (c *Channel) releaseNonce(timestamp, nonce string) {
	ctx, cancel := context.WithTimeout(context.Background(), cacheTimeout)
	defer cancel()
	c.cache.rdb.Del(ctx, c.nonceKey(timestamp, nonce))
}

func (c *Channel) nonceKey(timestamp, nonce string) string {
	// The length prefix keeps ("1", "23") and ("12", "3") apart.
	return c.cache.prefix + "callback-nonce:" + strconv.Itoa(len(timestamp)) + ":" + timestamp + ":" + nonce
}
