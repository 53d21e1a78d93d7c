package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels/sms/smsfake"
)

// TestServeWiresProviderHooksToTheInbox runs serve with Aliyun SMS pointed
// at the fake provider and pushes an SMS reply through the real HTTP
// endpoint: it is stored, processed by the worker and matched to the
// customer who owns the phone, and becomes a ticket.
func TestServeWiresProviderHooksToTheInbox(t *testing.T) {
	fake := smsfake.New(t)
	cfg := fake.Config()
	dir := t.TempDir()
	addr := freeAddr(t)
	secret := hookSecret
	env := append(smsEnv(fake, dir, addr), "HANDOVER_SMS_RECEIPT_POLL=1m") // the scheduler takes the polling task
	importCustomers(t, env, dir, "姓名,手机\n张三,13812345678\n")

	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &out, &errOut, env) }()
	defer func() { cancel(); <-done }()

	body := `[{"phone_number":"13812345678","send_time":"2026-11-27 10:05:00","content":"地址变更","sign_name":"` + cfg.SignName + `","dest_code":"","sequence_id":42}]`
	post := func(secret string) *http.Response {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			resp, err := http.Post("http://"+addr+"/hooks/aliyun/sms/up?secret="+secret, "application/json", strings.NewReader(body))
			if err == nil {
				resp.Body.Close()
				return resp
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve never answered: %v\n%s", err, errOut.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if resp := post("wrong-secret-0000"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged secret: %d, want 401", resp.StatusCode)
	}
	if resp := post(secret); resp.StatusCode != http.StatusOK {
		t.Fatalf("push: %d, want 200", resp.StatusCode)
	}
	if resp := post(secret); resp.StatusCode != http.StatusOK { // Aliyun re-pushes
		t.Fatalf("re-push: %d, want 200", resp.StatusCode)
	}
	resp, err := http.Get("http://" + addr + "/hooks/wechat")
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("WeChat hook while WeChat is off: %v %v, want 404", resp, err)
	}

	db := openData(t, dir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		var state, customer string
		db.QueryRow(`SELECT COUNT(*), MAX(state), MAX(customer_id) FROM inbound_events`).Scan(&n, &state, &customer)
		if n == 1 && state == "matched" && customer != "" {
			break
		}
		if n > 1 {
			t.Fatalf("%d events stored for one re-pushed reply", n)
		}
		if time.Now().After(deadline) {
			t.Fatalf("event not matched: n=%d state=%q", n, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The reply became a ticket, classified by the default rules.
	var tickets int
	var category string
	db.QueryRow(`SELECT COUNT(*), MAX(category) FROM tickets`).Scan(&tickets, &category)
	if tickets != 1 || category != "correction" {
		t.Fatalf("%d tickets (category %q) for the reply", tickets, category)
	}
	if !regexp.MustCompile(`channels on.*channels=sms`).MatchString(errOut.String()) {
		t.Fatalf("serve did not log the channels that are on:\n%s", errOut.String())
	}
	if strings.Contains(errOut.String(), secret) || strings.Contains(errOut.String(), "13812345678") {
		t.Fatal("the hook secret or a phone number reached the log")
	}
}
