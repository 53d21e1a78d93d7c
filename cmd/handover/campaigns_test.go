package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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
	csv := filepath.Join(dir, "c.csv")
	os.WriteFile(csv, []byte("姓名,手机\n张三,13812345678\n李四,13900001111\n"), 0o600)
	if code, _, errOut := runCLI(t, env, "", "import", csv); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	srv := serve(t, dir, addr, env)
	call := srv.call
	var tr struct{ ID string }
	if code := call("POST", "/transfers", `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr); code != http.StatusCreated {
		t.Fatalf("transfer: %d", code)
	}
	var tl struct{ Data []struct{ ID string } }
	if code := call("GET", "/templates?kind=transfer_notice&channel=devbox&locale=zh-CN", "", &tl); code != http.StatusOK || len(tl.Data) != 1 {
		t.Fatalf("templates: %d %+v", code, tl)
	}
	var c struct {
		ID, Status string
		Counts     map[string]int
	}
	if code := call("POST", "/campaigns", fmt.Sprintf(`{"name":"告知","transfer_id":%q,"channels":["devbox"],"templates":{"devbox":%q}}`,
		tr.ID, tl.Data[0].ID), &c); code != http.StatusCreated {
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
