package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
)

type campaignResp struct {
	ID, Status      string
	Planned         int
	Counts          map[string]int
	SendAt          *time.Time                `json:"send_at"`
	SkippedByReason map[string]int            `json:"skipped_by_reason"`
	ByChannel       map[string]map[string]int `json:"by_channel"`
}

func TestCampaignsAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, marketer, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Marketer), a.tokenFor(staff.Agent)
		a.importAndWait(admin, []byte(sampleCSV)) // two valid customers
		var tr struct{ ID string }
		a.postJSON("/api/v1/transfers", admin, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
			"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("default template: %v", err)
		}
		body := fmt.Sprintf(`{"name":"告知","transfer_id":%q,"kind":"transfer_notice","channels":["devbox"],"templates":{"devbox":%q}}`,
			tr.ID, list[0].ID)

		var e apiError
		if code := a.postJSON("/api/v1/campaigns", agent, body, &e); code != http.StatusForbidden {
			t.Fatalf("agent create: %d; want 403", code)
		}
		if code := a.postJSON("/api/v1/campaigns", marketer, `{"name":"x","transfer_id":"nope","channels":["devbox"],"templates":{}}`, &e); code != http.StatusBadRequest {
			t.Fatalf("bad transfer: %d; want 400", code)
		}
		var c campaignResp
		if code := a.postJSON("/api/v1/campaigns", marketer, body, &c); code != http.StatusCreated || c.Status != "draft" {
			t.Fatalf("marketer create: %d %+v", code, c)
		}
		var preview struct {
			Count, Queued   int
			ByChannel       map[string]int `json:"by_channel"`
			SkippedByReason map[string]int `json:"skipped_by_reason"`
		}
		if code := a.postJSON("/api/v1/campaigns/audience-preview", agent, fmt.Sprintf(`{"transfer_id":%q,"channels":["devbox"],
			"audience":{"reachable":["email","sms"],"tags":[]}}`, tr.ID), &preview); code != http.StatusOK || preview.Count != 2 || preview.ByChannel["devbox"] != 2 {
			t.Fatalf("audience preview: %d %+v", code, preview)
		}
		if code := a.postJSON("/api/v1/campaigns/audience-preview", agent, fmt.Sprintf(`{"transfer_id":%q,"channels":["devbox"],
			"audience":{"consent":[{"purpose":"营销","decision":"granted"}]}}`, tr.ID), &e); code != http.StatusBadRequest {
			t.Fatalf("preview with a purpose the transfer lacks: %d; want 400", code)
		}
		var sent struct {
			Channel    string
			ProviderID string `json:"provider_id"`
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/test-send", agent, "", &e); code != http.StatusForbidden {
			t.Fatalf("agent test-send: %d; want 403", code)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/test-send", marketer, "", &sent); code != http.StatusOK || sent.Channel != "devbox" || sent.ProviderID == "" {
			t.Fatalf("test-send: %d %+v", code, sent)
		}
		var listed struct{ Data []campaignResp }
		if code := a.getJSON("/api/v1/campaigns", agent, &listed); code != http.StatusOK || len(listed.Data) != 1 {
			t.Fatalf("agent list: %d %+v", code, listed)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/start", agent, "", &e); code != http.StatusForbidden {
			t.Fatalf("agent start: %d; want 403", code)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/start", marketer, "", &c); code != http.StatusOK || c.Status != "running" || c.Planned != 2 {
			t.Fatalf("start: %d %+v", code, c)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/start", marketer, "", &e); code != http.StatusConflict {
			t.Fatalf("second start: %d; want 409", code)
		}

		srv := a.queue.NewServer(queue.ServerConfig{Queues: campaigns.Queues(map[channels.Name]channels.Channel{channels.Devbox: a.devbox}),
			TaskCheckInterval: 20 * time.Millisecond, ShutdownTimeout: 5 * time.Second})
		mux := asynq.NewServeMux()
		a.campaigns.Register(mux)
		if err := srv.Start(mux); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			a.getJSON("/api/v1/campaigns/"+c.ID, agent, &c)
			if c.Status == "completed" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("campaign not completed: %+v", c)
			}
		}
		if c.Counts["sent"] != 2 || c.ByChannel["devbox"]["sent"] != 2 || len(c.SkippedByReason) != 0 {
			t.Fatalf("counts %v by channel %v skipped %v; want 2 sent", c.Counts, c.ByChannel, c.SkippedByReason)
		}
		var progress struct {
			Status  string
			Planned int
			Counts  map[string]int
			Health  *campaigns.Health
		}
		if code := a.getJSON("/api/v1/campaigns/"+c.ID+"/progress", agent, &progress); code != http.StatusOK ||
			progress.Status != "completed" || progress.Planned != 2 || progress.Counts["sent"] != 2 || len(progress.Counts) != 1 ||
			progress.Health == nil || *progress.Health != (campaigns.Health{}) {
			t.Fatalf("progress: %d %+v", code, progress)
		}
		var page struct {
			Data []struct {
				ID, Status string
				ProviderID string `json:"provider_id"`
			}
			NextCursor string `json:"next_cursor"`
		}
		if code := a.getJSON("/api/v1/campaigns/"+c.ID+"/deliveries?status=sent&limit=1", agent, &page); code != http.StatusOK ||
			len(page.Data) != 1 || page.NextCursor == "" || page.Data[0].ProviderID == "" {
			t.Fatalf("deliveries page: %d %+v", code, page)
		}
		if code := a.getJSON("/api/v1/campaigns/"+c.ID+"/deliveries?status=bogus", agent, &e); code != http.StatusBadRequest {
			t.Fatalf("bad status filter: %d", code)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/pause", marketer, "", &e); code != http.StatusConflict {
			t.Fatalf("pause completed: %d; want 409", code)
		}
		if code := a.getJSON("/api/v1/campaigns/nope", agent, &e); code != http.StatusNotFound {
			t.Fatalf("missing campaign: %d", code)
		}
		entries, err := audit.Find(ctx, a.db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, en := range entries {
			actions[en.Action] = true
		}
		if !actions["campaign.create"] || !actions["campaign.start"] {
			t.Fatalf("audit actions %v", actions)
		}
	})
}

// TestCampaignScheduleAPI schedules a campaign (future send_at only), then
// starts it by hand: its stats count skipped rows by reason and rows per
// channel.
func TestCampaignScheduleAPI(t *testing.T) {
	eachBackend(t, func(t *testing.T, a *app) {
		ctx := context.Background()
		admin, marketer, agent := a.tokenFor(staff.Admin), a.tokenFor(staff.Marketer), a.tokenFor(staff.Agent)
		a.importAndWait(admin, []byte(sampleCSV)) // two valid customers
		var tr struct{ ID string }
		a.postJSON("/api/v1/transfers", admin, `{"seller_name":"华东五金","buyer_name":"江南商贸","buyer_contact":"400-800-1234",
			"effective_date":"2025-07-01","purposes":["订单履行"],"data_categories":["name"],"retention_days":90}`, &tr)
		if _, err := a.templates.InstallDefaults(ctx); err != nil {
			t.Fatal(err)
		}
		list, err := a.templates.FindTemplates(ctx, templates.Filter{Kind: templates.TransferNotice, Channel: channels.Devbox, Locale: "zh-CN"})
		if err != nil || len(list) != 1 {
			t.Fatalf("default template: %v", err)
		}
		var c campaignResp
		a.postJSON("/api/v1/campaigns", marketer, fmt.Sprintf(`{"name":"定时","transfer_id":%q,"channels":["devbox"],"templates":{"devbox":%q}}`,
			tr.ID, list[0].ID), &c)
		path := "/api/v1/campaigns/" + c.ID + "/schedule"
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		var e apiError
		if code := a.postJSON(path, agent, `{"send_at":"`+future+`"}`, &e); code != http.StatusForbidden {
			t.Fatalf("agent schedule: %d; want 403", code)
		}
		for _, bad := range []string{`{}`, `{"send_at":"tomorrow"}`, `{"send_at":"` + time.Now().Add(-time.Hour).UTC().Format(time.RFC3339) + `"}`} {
			if code := a.postJSON(path, marketer, bad, &e); code != http.StatusBadRequest {
				t.Fatalf("schedule %s: %d; want 400", bad, code)
			}
		}
		if code := a.postJSON(path, marketer, `{"send_at":"`+future+`"}`, &c); code != http.StatusOK || c.Status != "scheduled" ||
			c.SendAt == nil || c.SendAt.UTC().Format(time.RFC3339) != future {
			t.Fatalf("schedule: %d %+v", code, c)
		}
		if code := a.postJSON("/api/v1/campaigns/nope/schedule", marketer, `{"send_at":"`+future+`"}`, &e); code != http.StatusNotFound {
			t.Fatalf("schedule missing: %d; want 404", code)
		}
		// One customer is erased before the start: skipped with its reason
		// (an opt-out would not skip a transfer notice).
		if _, err := a.db.ExecContext(ctx, `UPDATE customers SET status = 'erased' WHERE id = (SELECT MIN(id) FROM customers)`); err != nil {
			t.Fatal(err)
		}
		if code := a.postJSON("/api/v1/campaigns/"+c.ID+"/start", marketer, "", &c); code != http.StatusOK || c.Status != "running" {
			t.Fatalf("start scheduled: %d %+v", code, c)
		}
		if c.SkippedByReason["erased"] != 1 || c.ByChannel["devbox"]["queued"] != 1 || c.Counts["skipped"] != 1 {
			t.Fatalf("stats: counts %v skipped %v by channel %v", c.Counts, c.SkippedByReason, c.ByChannel)
		}
		if code := a.postJSON(path, marketer, `{"send_at":"`+future+`"}`, &e); code != http.StatusConflict {
			t.Fatalf("schedule running: %d; want 409", code)
		}
		entries, err := audit.Find(ctx, a.db, audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, en := range entries {
			found = found || en.Action == "campaign.schedule"
		}
		if !found {
			t.Fatal("schedule not audited")
		}
	})
}
