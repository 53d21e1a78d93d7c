package queuetest_test

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/handoverhq/handover/queue/queuetest"
)

func TestRedisURLLeasesDistinctDatabases(t *testing.T) {
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		t.Skip("TEST_REDIS_URL not set")
	}
	t.Parallel()
	ctx := context.Background()
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatal(err)
	}
	opt.DB = 0
	db0 := redis.NewClient(opt)
	defer db0.Close()
	canary := "queuetest-canary-" + strconv.FormatInt(int64(os.Getpid()), 10)
	if err := db0.Set(ctx, canary, "keep me", 0).Err(); err != nil {
		t.Fatal(err)
	}
	defer db0.Del(ctx, canary)

	// One test holding three leases at once must get three databases.
	seen := map[string]bool{}
	var leaseKeys []string
	t.Run("holder", func(t *testing.T) {
		for range 3 {
			url := queuetest.RedisURL(t)
			if seen[url] {
				t.Fatalf("got %s twice", url)
			}
			seen[url] = true
			o, err := redis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			if o.DB < 1 || o.DB > 15 {
				t.Fatalf("leased DB %d, want 1..15", o.DB)
			}
			key := "handover-test-db-lease:" + strconv.Itoa(o.DB)
			holder, err := db0.Get(ctx, key).Result()
			if err != nil || !strings.HasSuffix(holder, " "+t.Name()) {
				t.Fatalf("lease %s held by %q (err %v), want this test", key, holder, err)
			}
			c := redis.NewClient(o)
			n, err := c.DBSize(ctx).Result()
			c.Set(ctx, "left-behind", "x", 0)
			c.Close()
			if err != nil || n != 0 {
				t.Fatalf("leased DB has %d keys (err %v), want empty", n, err)
			}
			leaseKeys = append(leaseKeys, key)
		}
	})
	// The subtests have ended: their leases are released (unless another
	// test took the number since) and database 0's other keys are untouched.
	for _, key := range leaseKeys {
		holder, _ := db0.Get(ctx, key).Result()
		if strings.Contains(holder, t.Name()+"/holder") {
			t.Errorf("%s still held by %q after the test ended", key, holder)
		}
	}
	if v, err := db0.Get(ctx, canary).Result(); err != nil || v != "keep me" {
		t.Fatalf("database 0 key changed: %q, %v", v, err)
	}
}

func TestOpen(t *testing.T) {
	t.Parallel()
	q := queuetest.Open(t)
	if want := os.Getenv("TEST_REDIS_URL") == ""; q.Embedded != want {
		t.Fatalf("Embedded = %v, want %v", q.Embedded, want)
	}
	if err := q.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}
