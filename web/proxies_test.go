package web_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// quickCalls sends n API calls, each claiming another client address in
// X-Forwarded-For, and counts the 429 answers.
func quickCalls(a *app, token string, n int) int {
	limited := 0
	for i := range n {
		req, _ := http.NewRequest(http.MethodGet, a.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	return limited
}

// TestForwardedForOnlyFromListedProxies: the test client connects from
// 127.0.0.1, which is not a listed proxy, so its X-Forwarded-For must not
// choose its address. Echo's defaults trusted every loopback, link-local
// and private peer, and a new address per call slipped past the rate limit.
func TestForwardedForOnlyFromListedProxies(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_RATE_LIMIT=2", "HANDOVER_TRUSTED_PROXIES=192.0.2.0/24")
	if limited := quickCalls(a, a.tokenFor(staff.Admin), 20); limited == 0 {
		t.Fatal("a loopback peer that is not a listed proxy chose its address with X-Forwarded-For and escaped the rate limit")
	}
}

// TestForwardedForFromListedProxy: behind a listed proxy, each forwarded
// client is limited on its own, not all together as the proxy.
func TestForwardedForFromListedProxy(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_RATE_LIMIT=2", "HANDOVER_TRUSTED_PROXIES=127.0.0.1/32")
	if limited := quickCalls(a, a.tokenFor(staff.Admin), 20); limited != 0 {
		t.Fatalf("20 clients behind a listed proxy, one call each: %d answered 429; want none", limited)
	}
}

// TestLoginThrottleIgnoresForgedAddress: a guesser who sends a new
// X-Forwarded-For with every attempt is still throttled by its real
// address.
func TestLoginThrottleIgnoresForgedAddress(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_TRUSTED_PROXIES=10.1.0.0/16")
	w := a.newWebClient()
	w.get("/login")
	throttled := false
	for i := range staff.MaxFailuresPerIP + 1 {
		req := w.formRequest("/login", map[string]string{"email": fmt.Sprintf("guess%d@example.com", i), "password": "wrong password!"})
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		if resp, _ := w.send(req); resp.StatusCode == http.StatusTooManyRequests {
			throttled = true
		}
	}
	if !throttled {
		t.Fatalf("%d failed sign-ins from one peer with forged addresses were never throttled", staff.MaxFailuresPerIP+1)
	}
}
