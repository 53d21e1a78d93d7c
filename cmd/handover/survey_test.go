package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestServeTicketSurveyAsksTheConfiguredScore: with HANDOVER_TICKET_CSAT
// on, resolving a ticket sends a survey link whose page asks CSAT 1–5 by
// default and NPS 0–10 with HANDOVER_TICKET_SURVEY_SCORE=nps.
func TestServeTicketSurveyAsksTheConfiguredScore(t *testing.T) {
	for _, tc := range []struct{ score, asks, not string }{{"", "csat", "nps"}, {"nps", "nps", "csat"}} {
		t.Run(tc.asks, func(t *testing.T) {
			dir := t.TempDir()
			addr := freeAddr(t)
			env := []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_HTTP_ADDR=" + addr, "HANDOVER_TICKET_CSAT=true"}
			if tc.score != "" {
				env = append(env, "HANDOVER_TICKET_SURVEY_SCORE="+tc.score)
			}
			csv := filepath.Join(dir, "c.csv")
			os.WriteFile(csv, []byte("姓名,手机\n张三,13812345678\n"), 0o600)
			if code, _, errOut := runCLI(t, env, "", "import", csv); code != 0 {
				t.Fatalf("import: %s", errOut)
			}
			srv := serve(t, dir, addr, env)
			if code := srv.call("POST", "/transfers", `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
				"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, nil); code != http.StatusCreated {
				t.Fatalf("transfer: %d", code)
			}
			var cs struct{ Data []struct{ ID string } }
			if code := srv.call("GET", "/customers", "", &cs); code != http.StatusOK || len(cs.Data) != 1 {
				t.Fatalf("customers: %d %+v", code, cs)
			}
			var tk struct {
				ID string `json:"ticket_id"`
			}
			if code := srv.call("POST", "/tickets/calls", fmt.Sprintf(`{"customer_id":%q,"text":"发票怎么开？"}`, cs.Data[0].ID), &tk); code != http.StatusCreated {
				t.Fatalf("log a call: %d", code)
			}
			if code := srv.call("PATCH", "/tickets/"+tk.ID, `{"status":"resolved"}`, nil); code != http.StatusOK {
				t.Fatalf("resolve: %d", code)
			}
			var link string
			for deadline := time.Now().Add(10 * time.Second); link == ""; time.Sleep(50 * time.Millisecond) {
				var box struct{ Data []struct{ Text string } }
				srv.call("GET", "/devbox/messages", "", &box)
				for _, m := range box.Data {
					if u := regexp.MustCompile(`http://\S+/survey`).FindString(m.Text); u != "" {
						link = u
					}
				}
				if time.Now().After(deadline) {
					t.Fatalf("no survey link sent: %+v", box)
				}
			}
			resp, err := http.Get(link)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.Contains(string(page), `name="`+tc.asks+`"`) || strings.Contains(string(page), `name="`+tc.not+`"`) {
				t.Fatalf("survey page %d asks the wrong score:\n%s", resp.StatusCode, page)
			}
		})
	}
}
