package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestServeCampaignReceipts runs serve with the devbox only and sends a
// campaign through the API: the devbox's simulated "delivered" receipts go
// through the inbox to the campaigns service, so every delivery reaches
// delivered.
func TestServeCampaignReceipts(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_HTTP_ADDR=" + addr}
	importCustomers(t, env, dir, "姓名,手机\n张三,13812345678\n李四,13900001111\n")
	srv := serve(t, dir, addr, env)
	call := srv.call
	// A fresh installation is closed to customer data (issue #14, item 7).
	if code := call("GET", "/customers", "", &struct{}{}); code != http.StatusForbidden {
		t.Fatalf("customers before the agreement: %d", code)
	}
	clearGate(t, call)
	transfer := newTransfer(t, call)
	var tl struct{ Data []struct{ ID string } }
	if code := call("GET", "/templates?kind=transfer_notice&channel=devbox&locale=zh-CN", "", &tl); code != http.StatusOK || len(tl.Data) != 1 {
		t.Fatalf("templates: %d %+v", code, tl)
	}
	var c struct {
		ID, Status string
		Counts     map[string]int
	}
	if code := call("POST", "/campaigns", fmt.Sprintf(`{"name":"告知","transfer_id":%q,"channels":["devbox"],"templates":{"devbox":%q}}`,
		transfer, tl.Data[0].ID), &c); code != http.StatusCreated {
		t.Fatalf("create campaign: %d", code)
	}
	if code := call("POST", "/campaigns/"+c.ID+"/start", "", &c); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		call("GET", "/campaigns/"+c.ID, "", &c)
		if c.Status == "completed" && c.Counts["delivered"] == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s, deliveries %v; want every one delivered", c.Status, c.Counts)
		}
	}
	if strings.Contains(srv.errOut.String(), "13812345678") {
		t.Fatal("a phone number reached the log")
	}
}
