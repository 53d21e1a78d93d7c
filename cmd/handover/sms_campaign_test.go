package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels/sms/smsfake"
	"github.com/handoverhq/handover/database"
)

// TestServeSMSCampaignOnTheDefaults runs serve in its default
// configuration with Aliyun SMS pointed at the fake: the shipped default
// SMS transfer notice, filed with "Aliyun" as its description says and
// given its code, goes to every customer with their own working link; a
// reply by SMS, pushed through the real hook under the sign name, is tied
// to the campaign message it answers (campaign sends are not in the sent
// log: the deliveries are).
func TestServeSMSCampaignOnTheDefaults(t *testing.T) {
	fake := smsfake.New(t)
	cfg := fake.Config()
	dir := t.TempDir()
	addr := freeAddr(t)
	env := smsEnv(fake, dir, addr)
	importCustomers(t, env, dir, "姓名,手机\n张三,13812345678\n李四,13900001111\n")
	call := serve(t, dir, addr, env).call
	clearGate(t, call)
	transfer := newTransfer(t, call)
	sms := fileSMSNotice(t, call, fake)
	if !strings.Contains(sms.Body, "http://"+addr+"/l/${code}") || !strings.Contains(sms.Description, sms.Body) {
		t.Fatalf("default SMS text %q (description %q): want this server's link and the text to file", sms.Body, sms.Description)
	}
	c := runCampaign(t, call, fmt.Sprintf(`{"name":"告知","transfer_id":%q,"channels":["sms"],"templates":{"sms":%q}}`, transfer, sms.ID))
	msgs := fake.Messages()
	if len(msgs) != 2 || c.Counts["sent"]+c.Counts["delivered"] != 2 {
		t.Fatalf("%d messages, counts %v; want 2 sent", len(msgs), c.Counts)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		link := "http://" + addr + "/l/" + m.Params["code"]
		if m.Params["code"] == "" || seen[link] || !strings.Contains(m.Text, link) || !strings.HasPrefix(m.Text, "【"+cfg.SignName+"】") {
			t.Fatalf("message %+v: want its own link in the text", m)
		}
		seen[link] = true
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("opening %s: %d", link, resp.StatusCode)
		}
	}

	body := `[{"phone_number":"13812345678","send_time":"2026-11-27 10:05:00","content":"收到","sign_name":"` + cfg.SignName + `","dest_code":"","sequence_id":7}]`
	resp, err := http.Post("http://"+addr+"/hooks/aliyun/sms/up?secret="+hookSecret, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reply push: %d", resp.StatusCode)
	}
	db := openData(t, dir)
	deadline := time.Now().Add(20 * time.Second)
	for {
		var state, delivery, customer, owner, campaign string
		db.QueryRow(`SELECT e.state, e.delivery_id, e.customer_id, COALESCE(d.customer_id, ''), COALESCE(d.campaign_id, '')
			FROM inbound_events e LEFT JOIN deliveries d ON d.id = e.delivery_id WHERE e.kind = 'message'`).Scan(&state, &delivery, &customer, &owner, &campaign)
		if state == "matched" {
			if delivery == "" || campaign != c.ID || owner != customer {
				t.Fatalf("the reply is tied to delivery %q (campaign %q, customer %q vs the event's %q); want 张三's delivery in %s", delivery, campaign, owner, customer, c.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply was not processed: state %q", state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// smsTemplate is a message template as the API lists it.
type smsTemplate struct {
	ID, Body, Description string
	Version               int
	SMS                   map[string]any `json:"sms"`
}

// fileSMSNotice files the shipped SMS transfer notice with the fake
// provider, as staff would with Aliyun, and gives the template its code.
func fileSMSNotice(t *testing.T, call func(method, path, body string, v any) int, fake *smsfake.Server) smsTemplate {
	t.Helper()
	var tl struct{ Data []smsTemplate }
	if code := call("GET", "/templates?kind=transfer_notice&channel=sms&locale=zh-CN", "", &tl); code != http.StatusOK || len(tl.Data) != 1 {
		t.Fatalf("templates: %d %+v", code, tl)
	}
	sms := tl.Data[0]
	fake.AddTemplate(smsfake.Template{Code: "SMS_777", Type: 1, Content: sms.Body})
	sms.SMS["template_code"] = "SMS_777"
	upd, _ := json.Marshal(map[string]any{"version": sms.Version, "body": sms.Body, "description": sms.Description, "sms": sms.SMS})
	if code := call("PUT", "/templates/"+sms.ID, string(upd), nil); code != http.StatusOK {
		t.Fatalf("set the code: %d", code)
	}
	return sms
}

// hookSecret is HANDOVER_HOOK_SECRET in the tests that push provider hooks.
const hookSecret = "0123456789abcdef-secret"

// smsEnv is the environment of a serve (data directory dir, address addr)
// with Aliyun SMS pointed at fake.
func smsEnv(fake *smsfake.Server, dir, addr string) []string {
	cfg := fake.Config()
	return []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_HTTP_ADDR=" + addr,
		"HANDOVER_ALIYUN_ACCESS_KEY_ID=" + cfg.AccessKeyID, "HANDOVER_ALIYUN_ACCESS_KEY_SECRET=" + cfg.AccessKeySecret,
		"HANDOVER_ALIYUN_SMS_ENDPOINT=http://" + cfg.Endpoint, "HANDOVER_SMS_SIGN_NAME=" + cfg.SignName, "HANDOVER_HOOK_SECRET=" + hookSecret}
}

// importCustomers imports a CSV file of customers with the CLI.
func importCustomers(t *testing.T, env []string, dir, csv string) {
	t.Helper()
	file := filepath.Join(dir, "c.csv")
	os.WriteFile(file, []byte(csv), 0o600)
	if code, _, errOut := runCLI(t, env, "", "import", file); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
}

// newTransfer records the transfer the campaign tests notify about.
func newTransfer(t *testing.T, call func(method, path, body string, v any) int) string {
	t.Helper()
	var tr struct{ ID string }
	if code := call("POST", "/transfers", `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr); code != http.StatusCreated {
		t.Fatalf("transfer: %d", code)
	}
	return tr.ID
}

// campaignState is a campaign as the API shows it.
type campaignState struct {
	ID, Status string
	Counts     map[string]int
}

// runCampaign creates the campaign body describes, starts it and waits
// until it completes.
func runCampaign(t *testing.T, call func(method, path, body string, v any) int, body string) campaignState {
	t.Helper()
	var c campaignState
	if code := call("POST", "/campaigns", body, &c); code != http.StatusCreated {
		t.Fatalf("create campaign: %d", code)
	}
	if code := call("POST", "/campaigns/"+c.ID+"/start", "", &c); code != http.StatusOK {
		t.Fatalf("start: %d", code)
	}
	for deadline := time.Now().Add(30 * time.Second); c.Status != "completed"; time.Sleep(50 * time.Millisecond) {
		call("GET", "/campaigns/"+c.ID, "", &c)
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s, deliveries %v", c.Status, c.Counts)
		}
	}
	return c
}

// openData opens the SQLite database of a data directory (a serve's,
// running or stopped) until the test ends.
func openData(t *testing.T, dir string) *database.DB {
	t.Helper()
	db, err := database.OpenSQLite(t.Context(), filepath.Join(dir, "handover.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
