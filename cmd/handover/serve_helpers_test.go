package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// serveAPI runs serve with env (listening on addr) until the test ends and
// returns a caller of its JSON API, authenticated with the first admin's
// token that serve prints, and serve's log.
func serveAPI(t *testing.T, env []string, addr string) (call func(method, path, body string, v any) int, log *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errOut, env) }()
	t.Cleanup(func() { cancel(); <-done })

	var token string
	deadline := time.Now().Add(30 * time.Second)
	for token == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no token printed; stderr:\n%s", errOut.String())
		}
		if m := regexp.MustCompile(`API token:\s+(hov_\S+)`).FindStringSubmatch(out.String()); m != nil {
			token = m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	return func(method, path, body string, v any) int {
		t.Helper()
		for {
			req, _ := http.NewRequest(method, "http://"+addr+"/api/v1"+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				defer resp.Body.Close()
				if v != nil {
					json.NewDecoder(resp.Body).Decode(v)
				}
				return resp.StatusCode
			}
			if time.Now().After(deadline) {
				t.Fatalf("server never answered: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}, &errOut
}
