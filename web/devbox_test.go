package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

func TestDevboxOutboxAndSimulatedReply(t *testing.T) {
	db := dbtest.SQLite(t)
	q := queuetest.Embedded(t)
	a := newApp(t, db, q)
	box := a.devbox
	box.Send(context.Background(), []channels.Message{{DeliveryID: "d1", CustomerID: "c1", Kind: channels.Notice,
		To: channels.Address{Phone: "+8613812345678"}, Text: "尊敬的张三：我司业务已转让", Link: a.url + "/l/abc"}})

	marketer, agent := a.tokenFor(staff.Marketer), a.tokenFor(staff.Agent)
	var list struct {
		Data []struct{ DeliveryID, Text, Link string } `json:"data"`
	}
	if code := a.getJSON("/api/v1/devbox/messages", marketer, &list); code != http.StatusOK || len(list.Data) != 1 || !strings.Contains(list.Data[0].Text, "张三") {
		t.Fatalf("outbox: %d %+v", code, list)
	}
	if code := a.getJSON("/api/v1/devbox/messages", agent, nil); code != http.StatusForbidden {
		t.Fatalf("agent reads the outbox: %d, want 403", code)
	}
	if code := a.postJSON("/api/v1/devbox/messages/d1/reply", marketer, `{"text":"退订"}`, nil); code != http.StatusAccepted {
		t.Fatalf("simulated reply: %d", code)
	}
	var e apiError
	if code := a.postJSON("/api/v1/devbox/messages/nope/reply", marketer, `{"text":"x"}`, &e); code != http.StatusNotFound {
		t.Fatalf("reply to unknown delivery: %d %+v", code, e)
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM inbound_events WHERE kind = 'message' AND delivery_id = 'd1'`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d replies recorded, want 1", n)
	}
	var audited int
	db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'outbox.list'`).Scan(&audited)
	if audited != 1 {
		t.Fatalf("outbox reads audited %d times, want 1", audited)
	}
}
