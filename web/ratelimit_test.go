package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

// TestRateLimitAppliesToClientsNotHooks: past the per-client rate the API
// answers 429 with a clear error, while provider hooks (which push in
// bursts and check their own signatures) are never throttled.
func TestRateLimitAppliesToClientsNotHooks(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t), "HANDOVER_RATE_LIMIT=2")
	token := a.tokenFor(staff.Admin)
	limited := 0
	var e apiError
	for range 20 {
		if resp := a.do("GET", "/api/v1/me", token, "", nil, &e); resp.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 || e.Error.Code != "rate_limited" {
		t.Fatalf("20 quick API calls at 2/s: %d answered 429 (last error %+v); want some", limited, e.Error)
	}
	for i := range 20 {
		resp, err := http.Post(a.url+"/hooks/aliyun/sms/up?secret=x", "application/json", strings.NewReader("[]"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("hook push %d was rate limited", i)
		}
	}
}
