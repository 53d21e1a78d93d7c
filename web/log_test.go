package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
)

// TestAccessLogPseudonymisesClients: a portal visitor's address (here
// through a trusted proxy) never reaches the log in clear; the log carries
// a pseudonym that is the same for the same address and differs between
// addresses.
func TestAccessLogPseudonymisesClients(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		a := newApp(t, db, queuetest.Open(t), "HANDOVER_TRUSTED_PROXIES=127.0.0.1/32")
		visit := func(ip string) {
			req, _ := http.NewRequest("GET", a.url+"/l/AAAAAAAAAAAAAA", nil)
			req.Header.Set("X-Forwarded-For", ip)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
		}
		visit("203.0.113.77")
		visit("203.0.113.77")
		visit("198.51.100.9")
		logs := a.logs.String()
		for _, ip := range []string{"203.0.113.77", "198.51.100.9", "203.0.113"} {
			if strings.Contains(logs, ip) {
				t.Fatalf("the log holds the visitor's address %s:\n%s", ip, logs)
			}
		}
		var clients []string
		for _, m := range regexp.MustCompile(`route=/l/:token .* client=([0-9a-f]{12})`).FindAllStringSubmatch(logs, -1) {
			clients = append(clients, m[1])
		}
		if len(clients) != 3 || clients[0] != clients[1] || clients[0] == clients[2] {
			t.Fatalf("client pseudonyms %v, want the first two equal and the third different:\n%s", clients, logs)
		}
	})
}
