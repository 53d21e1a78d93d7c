package queue

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// defaultSentinelPort is used for a Sentinel address given without a port.
const defaultSentinelPort = "26379"

// redisConfig is what a HANDOVER_REDIS_URL describes: either one Redis
// server (single) or a master watched by Sentinels (failover).
type redisConfig struct {
	single   *redis.Options
	failover *redis.FailoverOptions
}

// newClient builds the go-redis client for c. It does not connect.
func (c redisConfig) newClient() redis.UniversalClient {
	if c.failover != nil {
		return redis.NewFailoverClient(c.failover)
	}
	return redis.NewClient(c.single)
}

// describe names the server(s) for error messages and logs; it never
// includes a password.
func (c redisConfig) describe() string {
	if c.failover != nil {
		return fmt.Sprintf("master %q via sentinels %s", c.failover.MasterName, strings.Join(c.failover.SentinelAddrs, ","))
	}
	return c.single.Addr
}

// parseRedisURL parses a non-empty HANDOVER_REDIS_URL:
//
//	redis://[[user]:password@]host[:port][/db]
//	rediss://…                         (TLS)
//	unix://[[user]:password@]/path/redis.sock[?db=N]
//	redis-sentinel://[[user]:password@]host1[:26379],host2[:26379]/mastername[?db=N][&sentinel_password=…]
//
// Errors never repeat the URL, which may hold a password.
func parseRedisURL(raw string) (redisConfig, error) {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return redisConfig{}, errors.New("HANDOVER_REDIS_URL must be a URL such as redis://127.0.0.1:6379/0")
	}
	switch strings.ToLower(scheme) {
	case "redis", "rediss", "unix":
		opt, err := redis.ParseURL(raw)
		if err != nil {
			return redisConfig{}, fmt.Errorf("HANDOVER_REDIS_URL is not a valid Redis URL: %w", redactURLError(err))
		}
		return redisConfig{single: opt}, nil
	case "redis-sentinel":
		opt, err := parseSentinelURL(raw[len(scheme)+len("://"):])
		if err != nil {
			return redisConfig{}, fmt.Errorf("HANDOVER_REDIS_URL is not a valid redis-sentinel URL: %w", err)
		}
		return redisConfig{failover: opt}, nil
	default:
		return redisConfig{}, fmt.Errorf("HANDOVER_REDIS_URL has unsupported scheme %q: use redis://, rediss://, unix:// or redis-sentinel://, or leave it empty for the embedded server", scheme)
	}
}

// parseSentinelURL parses what follows "redis-sentinel://". net/url cannot
// parse a comma-separated host list, so this splits the parts itself.
func parseSentinelURL(rest string) (*redis.FailoverOptions, error) {
	rest, rawQuery, _ := strings.Cut(rest, "?")
	rest, _, _ = strings.Cut(rest, "#")
	authority, path, _ := strings.Cut(rest, "/")

	opt := &redis.FailoverOptions{}
	if i := strings.LastIndex(authority, "@"); i >= 0 {
		user, pass, _ := strings.Cut(authority[:i], ":")
		var err error
		if opt.Username, err = url.PathUnescape(user); err != nil {
			return nil, errors.New("bad escape in user name")
		}
		if opt.Password, err = url.PathUnescape(pass); err != nil {
			return nil, errors.New("bad escape in password")
		}
		authority = authority[i+1:]
	}

	for _, host := range strings.Split(authority, ",") {
		if host == "" {
			return nil, errors.New("empty sentinel address")
		}
		if _, _, err := net.SplitHostPort(host); err != nil {
			host = net.JoinHostPort(strings.Trim(host, "[]"), defaultSentinelPort)
		}
		h, p, err := net.SplitHostPort(host)
		if err != nil || h == "" {
			return nil, fmt.Errorf("bad sentinel address %q", host)
		}
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port in sentinel address %q", host)
		}
		opt.SentinelAddrs = append(opt.SentinelAddrs, host)
	}

	master, err := url.PathUnescape(strings.Trim(path, "/"))
	if err != nil || master == "" || strings.Contains(master, "/") {
		return nil, errors.New("the path must be the master name, as in redis-sentinel://host1:26379,host2:26379/mymaster")
	}
	opt.MasterName = master

	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, errors.New("bad query string")
	}
	for key, values := range query {
		value := values[len(values)-1]
		switch key {
		case "db":
			db, err := strconv.Atoi(value)
			if err != nil || db < 0 {
				return nil, fmt.Errorf("db must be a database number, not %q", value)
			}
			opt.DB = db
		case "sentinel_password":
			opt.SentinelPassword = value
		case "sentinel_username":
			opt.SentinelUsername = value
		default:
			return nil, fmt.Errorf("unknown parameter %q (known: db, sentinel_username, sentinel_password)", key)
		}
	}
	return opt, nil
}

// redactURLError drops the URL that net/url puts in its errors: it may
// contain a password.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
