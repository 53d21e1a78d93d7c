package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

// TestDashboardDevbox sends a campaign through the devbox, then walks the
// outbox page: the personal links are there, and a reply typed as the
// customer lands in the inbound events.
func TestDashboardDevbox(t *testing.T) {
	a := newApp(t, dbtest.SQLite(t), queuetest.Embedded(t))
	ctx := context.Background()
	token := a.tokenFor(staff.Admin)
	a.importAndWait(token, []byte(sampleCSV))
	var tr struct{ ID string }
	a.postJSON("/api/v1/transfers", token, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
		"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
	if _, err := a.templates.InstallDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	list, _ := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
	a.runNoticeCampaign(token, tr.ID, list[0].ID)

	_, email := a.staffMember(staff.Marketer, "marketer")
	w := a.newWebClient()
	w.login(email, testPassword)
	resp, body := w.get("/devbox")
	if resp.StatusCode != http.StatusOK || strings.Count(body, `href="http://`) != 2 || !strings.Contains(body, "/l/") {
		t.Fatalf("outbox: %d; want two messages with links\n%s", resp.StatusCode, body)
	}
	delivery := between(body, `action="/devbox/`, `/reply"`)
	resp, _ = w.post("/devbox/"+delivery+"/reply", url.Values{"text": {"请问新公司的电话是多少?"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d", resp.StatusCode)
	}
	var n int
	a.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM inbound_events WHERE delivery_id = $1 AND kind = 'message'`, delivery).Scan(&n)
	if n != 1 {
		t.Fatalf("%d inbound events for the delivery; want the reply", n)
	}
	if len(a.auditActions("outbox.list")) == 0 {
		t.Fatal("reading the outbox is not audited")
	}
}

// startWorker runs the campaign send tasks (devbox queue) until the test ends.
func (a *app) startWorker() {
	a.t.Helper()
	srv := a.queue.NewServer(queue.ServerConfig{Queues: campaigns.Queues(map[channels.Name]channels.Channel{channels.Devbox: a.devbox}),
		TaskCheckInterval: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
	mux := asynq.NewServeMux()
	a.campaigns.Register(mux)
	if err := srv.Start(mux); err != nil {
		a.t.Fatal(err)
	}
	a.t.Cleanup(srv.Shutdown)
}
