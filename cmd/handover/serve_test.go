package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// served is a running `handover serve` and its first admin's API token.
type served struct {
	t      testing.TB
	addr   string
	token  string
	errOut *syncBuffer
}

// serve runs `handover serve` with env (data directory dir) until the
// test ends and waits for the API token it writes on first start.
func serve(t *testing.T, dir, addr string, env []string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errOut, env) }()
	t.Cleanup(func() { cancel(); <-done })
	return &served{t: t, addr: addr, errOut: &errOut, token: firstAdminToken(t, dir, time.Now().Add(20*time.Second), &errOut)}
}

// call sends a JSON API request, waiting for the server to answer, and
// decodes the answer into v.
func (s *served) call(method, path, body string, v any) int {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest(method, "http://"+s.addr+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+s.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			defer resp.Body.Close()
			json.NewDecoder(resp.Body).Decode(v)
			return resp.StatusCode
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServePprof: HANDOVER_PPROF_ADDR serves Go's profiler apart from the
// API, which does not serve it.
func TestServePprof(t *testing.T) {
	dir, addr, pprofAddr := t.TempDir(), freeAddr(t), freeAddr(t)
	srv := serve(t, dir, addr, []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_HTTP_ADDR=" + addr, "HANDOVER_PPROF_ADDR=" + pprofAddr})
	srv.call("GET", "/me", "", &struct{}{}) // up
	for _, c := range []struct {
		url  string
		want int
	}{{"http://" + pprofAddr + "/debug/pprof/cmdline", http.StatusOK}, {"http://" + addr + "/debug/pprof/cmdline", http.StatusNotFound}} {
		resp, err := http.Get(c.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.url, resp.StatusCode, c.want)
		}
	}
}
