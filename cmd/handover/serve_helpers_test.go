package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveAPI runs serve with env (data in dir, listening on addr) until the
// test ends and returns a caller of its JSON API, authenticated with the
// first admin's token that serve writes to its file, and serve's log.
func serveAPI(t *testing.T, env []string, dir, addr string) (call func(method, path, body string, v any) int, log *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errOut, env) }()
	t.Cleanup(func() { cancel(); <-done })

	deadline := time.Now().Add(30 * time.Second)
	token := firstAdminToken(t, dir, deadline, &errOut)
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
