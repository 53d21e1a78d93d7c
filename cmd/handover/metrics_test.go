package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/handoverhq/handover/channels/email/smtptest"
	"github.com/handoverhq/handover/channels/sms/smsfake"
)

const metricsToken = "metrics-token-0123456789"

// TestMetricsFollowACampaign runs serve with Aliyun SMS and SMTP pointed
// at the fakes, sends a campaign to one customer by SMS and one by email,
// then pushes the SMS's receipt and a reply: /metrics counts the sends by
// channel and outcome, the receipt, the matched reply, the import's rows
// and the campaign's progress; every metric the alert rules, the Grafana
// dashboard and docs/metrics.md name is in the scrape; and the JSON log
// tells the campaign's story by its id without a phone, email or name.
func TestMetricsFollowACampaign(t *testing.T) {
	fake := smsfake.New(t)
	sink := smtptest.New(t)
	cfg := fake.Config()
	dir := t.TempDir()
	addr := freeAddr(t)
	env := append(smsEnv(fake, dir, addr), "HANDOVER_SMTP_URL="+sink.URL(), "HANDOVER_EMAIL_FROM=notice@handover.test",
		"HANDOVER_METRICS_TOKEN="+metricsToken, "HANDOVER_METRICS_CACHE=0s", "HANDOVER_LOG_FORMAT=json",
		"HANDOVER_SMS_RATE=1") // the second SMS waits its turn

	importCustomers(t, env, dir, "姓名,手机,邮箱\n张三,13812345678,\n王五,13900001111,\n李四,,lisi@example.com\n")
	srv := serve(t, dir, addr, env)
	call := srv.call
	clearGate(t, call)
	transfer := newTransfer(t, call)
	sms := fileSMSNotice(t, call, fake)
	var tl struct{ Data []struct{ ID string } }
	if code := call("GET", "/templates?kind=transfer_notice&channel=email&locale=zh-CN", "", &tl); code != http.StatusOK || len(tl.Data) != 1 {
		t.Fatalf("email templates: %d %+v", code, tl)
	}
	c := runCampaign(t, call, fmt.Sprintf(`{"name":"告知","transfer_id":%q,"channels":["sms","email"],"templates":{"sms":%q,"email":%q}}`,
		transfer, sms.ID, tl.Data[0].ID))
	msgs := fake.Messages()
	if len(msgs) != 2 || sink.Count() != 1 {
		t.Fatalf("%d SMS and %d emails, want 2 and 1", len(msgs), sink.Count())
	}
	report := fmt.Sprintf(`[{"phone_number":%q,"send_time":"2026-11-27 10:00:00","report_time":"2026-11-27 10:00:05","success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1","biz_id":%q,"out_id":%q}]`,
		msgs[0].Phone, msgs[0].BizID, msgs[0].OutID)
	reply := `[{"phone_number":"13812345678","send_time":"2026-11-27 10:05:00","content":"地址变更","sign_name":"` + cfg.SignName + `","dest_code":"","sequence_id":42}]`
	for path, body := range map[string]string{"/hooks/aliyun/sms/report": report, "/hooks/aliyun/sms/up": reply} {
		resp, err := http.Post("http://"+addr+path+"?secret="+hookSecret, "application/json", strings.NewReader(body))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("push %s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}

	var got map[string]*dto.MetricFamily
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = scrape(t, addr)
		if value(got, "handover_inbound_events_total", "channel", "sms", "kind", "message", "outcome", "matched") == 1 &&
			value(got, "handover_receipts_total", "channel", "sms", "status", "delivered") == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reply and the receipt were not counted:\n%s", family(got, "handover_inbound_events_total"))
		}
	}
	for _, want := range []struct {
		name   string
		labels []string
		value  float64
	}{
		{"handover_sends_total", []string{"channel", "sms", "outcome", "sent"}, 2},
		{"handover_sends_total", []string{"channel", "email", "outcome", "sent"}, 1},
		{"handover_import_rows_total", []string{"outcome", "created"}, 3},
		{"handover_campaign_recipients", []string{"campaign_id", c.ID, "state", "sent"}, 3},
		{"handover_campaigns", []string{"status", "completed"}, 1},
		{"handover_inbound_unprocessed", nil, 0},
		{"handover_audit_chain_failures_total", []string{"reason", "broken"}, 0},
	} {
		if v := value(got, want.name, want.labels...); v != want.value {
			t.Errorf("%s%v = %v, want %v\n%s", want.name, want.labels, v, want.value, family(got, want.name))
		}
	}
	if v := value(got, "handover_queue_tasks", "queue", "send_sms", "state", "pending"); v != 0 {
		t.Errorf("send_sms pending tasks = %v, want 0", v)
	}
	if v := value(got, "handover_ratelimit_waits_total", "limit", "sms"); v < 1 {
		t.Errorf("SMS rate-limit waits = %v, want at least 1 at 1 SMS a second", v)
	}
	if got["handover_tickets_open"] == nil {
		t.Errorf("the reply opened no ticket in the figures")
	}
	checkMetricNamesExist(t, got)
	checkCampaignLog(t, srv.errOut.String(), c.ID)
}

// scrape reads /metrics as Prometheus would.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+metricsToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return families
}

// value is the metric of family name whose labels include the given
// name/value pairs: a counter's or gauge's value, -1 when there is none.
func value(families map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	f := families[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				found = found || l.GetName() == labels[i] && l.GetValue() == labels[i+1]
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		}
	}
	return -1
}

func family(families map[string]*dto.MetricFamily, name string) string {
	if f := families[name]; f != nil {
		return f.String()
	}
	return name + ": none"
}

var metricName = regexp.MustCompile(`\bhandover_[a-z_]+[a-z]`)

// checkMetricNamesExist fails for a metric the alert rules, the Grafana
// dashboard or docs/metrics.md name that the scrape lacks, and for a
// handover_ metric in the scrape that docs/metrics.md does not describe.
func checkMetricNamesExist(t *testing.T, families map[string]*dto.MetricFamily) {
	t.Helper()
	checkDeployFilesParse(t)
	documented := map[string]bool{}
	for _, file := range []string{"../../deploy/prometheus/alerts.yml", "../../deploy/grafana/handover.json", "../../docs/metrics.md"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		names := metricName.FindAllString(string(b), -1)
		if len(names) == 0 {
			t.Fatalf("%s names no metric", file)
		}
		for _, name := range names {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
			if strings.HasSuffix(file, ".md") {
				documented[base] = true
			}
			if families[name] == nil && families[base] == nil {
				t.Errorf("%s names %s, which /metrics does not serve", file, name)
			}
		}
	}
	for name := range families {
		if strings.HasPrefix(name, "handover_") && !documented[name] {
			t.Errorf("/metrics serves %s, which docs/metrics.md does not describe", name)
		}
	}
}

// checkCampaignLog reads the JSON log: the campaign's lines carry its id,
// each request line a request id, and no line a phone, email or name.
func checkCampaignLog(t *testing.T, log, campaignID string) {
	t.Helper()
	for _, personal := range []string{"13812345678", "13900001111", "lisi@example.com", "张三", "王五", "李四"} {
		if strings.Contains(log, personal) {
			t.Errorf("%q reached the log", personal)
		}
	}
	story := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line map[string]any
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue // the first admin's banner
		}
		msg, _ := line["msg"].(string)
		if line["campaign_id"] == campaignID {
			story[msg]++
		}
		if id, _ := line["request_id"].(string); msg == "http" && id == "" {
			t.Errorf("request logged without a request id: %s", sc.Text())
		}
	}
	for _, msg := range []string{"campaign started", "campaign chunk planned", "campaign batch sent", "campaign completed"} {
		if story[msg] == 0 {
			t.Errorf("no %q line with campaign_id %s; the campaign's lines: %v", msg, campaignID, story)
		}
	}
	if story["campaign batch sent"] != 2 {
		t.Errorf("%d batch lines, want one per channel", story["campaign batch sent"])
	}
}

// TestWorkerServesItsCounters: a worker alone serves /healthz, /readyz
// and its own counters on HANDOVER_METRICS_ADDR, behind the same token.
func TestWorkerServesItsCounters(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_METRICS_ADDR=" + addr, "HANDOVER_METRICS_TOKEN=" + metricsToken}
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"worker"}, strings.NewReader(""), &out, &errOut, env) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker never ready on HANDOVER_METRICS_ADDR: %v\n%s", err, errOut.String())
		}
	}
	got := scrape(t, addr)
	if value(got, "handover_ratelimit_waits_total", "limit", "sms") != 0 || got["go_goroutines"] == nil {
		t.Fatalf("worker metrics lack its counters:\n%s", family(got, "handover_ratelimit_waits_total"))
	}
	if got["handover_queue_tasks"] != nil {
		t.Error("a worker serves figures read from Redis; only api processes should")
	}
}

// checkDeployFilesParse checks the alert rules and the dashboard are what
// Prometheus and Grafana load: every rule named, with an expression.
func checkDeployFilesParse(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile("../../deploy/prometheus/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Expr string }
		}
	}
	if err := yaml.Unmarshal(b, &rules); err != nil || len(rules.Groups) == 0 {
		t.Fatalf("alerts.yml: %v %+v", err, rules)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("alerts.yml group %s: a rule without a name or expression: %+v", g.Name, r)
			}
		}
	}
	b, err = os.ReadFile("../../deploy/grafana/handover.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Title  string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil || dash.Title == "" || len(dash.Panels) == 0 {
		t.Fatalf("handover.json: %v", err)
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 || p.Targets[0].Expr == "" {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
	}
}
