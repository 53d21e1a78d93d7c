package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/handoverhq/handover/governance"
)

// clearGate accepts the shipped agreement and passes the shipped training
// as the caller of call: a fresh installation is closed to customer data
// until then.
func clearGate(t testing.TB, call func(method, path, body string, v any) int) {
	t.Helper()
	var ag struct {
		Agreement struct{ Hash string } `json:"agreement"`
	}
	if code := call("GET", "/agreement", "", &ag); code != http.StatusOK || ag.Agreement.Hash == "" {
		t.Fatalf("agreement: %d", code)
	}
	if code := call("POST", "/agreement/accept", `{"hash":"`+ag.Agreement.Hash+`"}`, &struct{}{}); code != http.StatusNoContent {
		t.Fatalf("accept: %d", code)
	}
	var due struct {
		Due []struct{ ID, Title string } `json:"due"`
	}
	if code := call("GET", "/training", "", &due); code != http.StatusOK || len(due.Due) != 1 {
		t.Fatalf("training due: %d %+v", code, due)
	}
	shipped, err := governance.DefaultModules()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range shipped {
		if m.Title != due.Due[0].Title {
			continue
		}
		var answers []int
		for _, q := range m.Questions {
			answers = append(answers, q.Answer)
		}
		body, _ := json.Marshal(map[string]any{"answers": answers})
		var res struct{ Passed bool }
		if code := call("POST", fmt.Sprintf("/training/modules/%s/attempts", due.Due[0].ID), string(body), &res); code != http.StatusOK || !res.Passed {
			t.Fatalf("training: %d %+v", code, res)
		}
		return
	}
	t.Fatalf("no shipped module is titled %q", due.Due[0].Title)
}
