package queue

import (
	"strings"
	"testing"
)

func TestParseRedisURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url string
		// want, for a valid URL
		addr, password, master string
		sentinels              []string
		db                     int
		tls                    bool
		sentinelPassword       string
		// wantErr is a substring of the error, for an invalid URL
		wantErr string
	}{
		{url: "redis://127.0.0.1:6379/0", addr: "127.0.0.1:6379"},
		{url: "redis://localhost/3", addr: "localhost:6379", db: 3},
		{url: "redis://:s3cret@redis.internal:6380/2", addr: "redis.internal:6380", password: "s3cret", db: 2},
		{url: "rediss://user:pw@cache.example.com:6380/1", addr: "cache.example.com:6380", password: "pw", db: 1, tls: true},
		{url: "REDIS://127.0.0.1:6379", addr: "127.0.0.1:6379"}, // schemes are case-insensitive
		{
			url:       "redis-sentinel://:pa%40ss@10.0.0.1:26379,10.0.0.2:26380/mymaster?db=4",
			master:    "mymaster",
			sentinels: []string{"10.0.0.1:26379", "10.0.0.2:26380"},
			password:  "pa@ss",
			db:        4,
		},
		{
			url:              "redis-sentinel://s1,s2,[::1]/handover?sentinel_password=sp",
			master:           "handover",
			sentinels:        []string{"s1:26379", "s2:26379", "[::1]:26379"},
			sentinelPassword: "sp",
		},
		{url: "redis-sentinel://s1:26379", wantErr: "master name"},
		{url: "redis-sentinel://s1:26379/", wantErr: "master name"},
		{url: "redis-sentinel://s1:26379,,s2/m", wantErr: "empty sentinel address"},
		{url: "redis-sentinel://s1:99999/m", wantErr: "bad port"},
		{url: "redis-sentinel://s1/m?db=x", wantErr: "db must be"},
		{url: "redis-sentinel://s1/m?db=-1", wantErr: "db must be"},
		{url: "redis-sentinel://s1/m?pool=3", wantErr: `unknown parameter "pool"`},
		{url: "http://127.0.0.1:6379", wantErr: `HANDOVER_REDIS_URL has unsupported scheme "http"`},
		{url: "127.0.0.1:6379", wantErr: "HANDOVER_REDIS_URL must be a URL"},
		{url: "redis://:topsecret@host:notaport/0", wantErr: "HANDOVER_REDIS_URL is not a valid Redis URL"},
		{url: "redis://host:6379/notadb", wantErr: "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			cfg, err := parseRedisURL(tt.url)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got none", tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %q does not contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "topsecret") {
					t.Fatalf("error leaks the password: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.master != "" {
				f := cfg.failover
				if f == nil {
					t.Fatal("want a failover (sentinel) config")
				}
				if f.MasterName != tt.master || f.Password != tt.password || f.DB != tt.db || f.SentinelPassword != tt.sentinelPassword {
					t.Errorf("got master=%q password=%q db=%d sentinel_password=%q", f.MasterName, f.Password, f.DB, f.SentinelPassword)
				}
				if strings.Join(f.SentinelAddrs, " ") != strings.Join(tt.sentinels, " ") {
					t.Errorf("sentinels = %q, want %q", f.SentinelAddrs, tt.sentinels)
				}
				if d := cfg.describe(); strings.Contains(d, tt.password) && tt.password != "" {
					t.Errorf("describe() leaks the password: %q", d)
				}
				return
			}
			o := cfg.single
			if o == nil {
				t.Fatal("want a single-server config")
			}
			if o.Addr != tt.addr || o.Password != tt.password || o.DB != tt.db || (o.TLSConfig != nil) != tt.tls {
				t.Errorf("got addr=%q password=%q db=%d tls=%v", o.Addr, o.Password, o.DB, o.TLSConfig != nil)
			}
		})
	}
}
