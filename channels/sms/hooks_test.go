package sms_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
)

const hookSecret = "s3cret-hook"

// recorder stands in for the Inbox: it keeps what it is given.
type recorder struct {
	mu     sync.Mutex
	events []channels.InboundEvent
	err    error
}

func (r *recorder) record(_ context.Context, events []channels.InboundEvent) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	r.events = append(r.events, events...)
	return len(events), nil
}

func (r *recorder) got() []channels.InboundEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]channels.InboundEvent(nil), r.events...)
}

func post(t *testing.T, h http.Handler, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func beijing(s string) time.Time {
	t, err := time.ParseInLocation(time.DateTime, s, time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func TestReportHandler(t *testing.T) {
	rec := &recorder{}
	h := sms.ReportHandler(rec.record, hookSecret, nil)

	w := post(t, h, "/hooks/aliyun/sms/report?secret="+hookSecret, fixture(t, "report.json"))

	if w.Code != http.StatusOK || w.Body.String() != `{"code":0,"msg":"接收成功"}` {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
	want := []channels.InboundEvent{{
		Channel: channels.SMS, Kind: channels.EventReceipt, DedupKey: "932702304080415357^0:+8613900000001",
		From: channels.Address{Phone: "+8613900000001"}, ProviderMessageID: "932702304080415357^0",
		DeliveryID: "dlv-0001", Status: channels.StatusDelivered, OccurredAt: beijing("2024-05-06 10:00:05"),
	}, {
		Channel: channels.SMS, Kind: channels.EventReceipt, DedupKey: "932702304080415358^0:+8613900000002",
		From: channels.Address{Phone: "+8613900000002"}, ProviderMessageID: "932702304080415358^0",
		Status: channels.StatusFailed, ErrorCode: "MK:0001", OccurredAt: beijing("2024-05-06 10:00:09"),
	}}
	assertEvents(t, rec.got(), want)
}

func TestUpHandler(t *testing.T) {
	rec := &recorder{}
	h := sms.UpHandler(rec.record, hookSecret, nil)

	w := post(t, h, "/hooks/aliyun/sms/up?secret="+hookSecret, fixture(t, "up.json"))

	if w.Code != http.StatusOK || w.Body.String() != `{"code":0,"msg":"接收成功"}` {
		t.Fatalf("answer %d %q", w.Code, w.Body)
	}
	want := []channels.InboundEvent{{
		Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "1234567890",
		From: channels.Address{Phone: "+8613900000001"}, To: "交接通知", Text: "收到，谢谢",
		OccurredAt: beijing("2024-05-06 10:05:00"),
	}, {
		Channel: channels.SMS, Kind: channels.EventMessage, DedupKey: "1234567891",
		From: channels.Address{Phone: "+8613900000003"}, To: "交接通知", Text: "TD",
		OccurredAt: beijing("2024-05-06 10:06:00"),
	}}
	assertEvents(t, rec.got(), want)
}

func assertEvents(t *testing.T, got, want []channels.InboundEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !got[i].OccurredAt.Equal(want[i].OccurredAt) {
			t.Errorf("event %d at %v, want %v", i, got[i].OccurredAt, want[i].OccurredAt)
		}
		g, w := got[i], want[i]
		g.OccurredAt, w.OccurredAt = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, g, w)
		}
	}
}

func TestHookReplayKeepsDedupKey(t *testing.T) {
	rec := &recorder{}
	report := sms.ReportHandler(rec.record, hookSecret, nil)
	up := sms.UpHandler(rec.record, hookSecret, nil)
	for range 2 {
		post(t, report, "/r?secret="+hookSecret, fixture(t, "report.json"))
		post(t, up, "/u?secret="+hookSecret, fixture(t, "up.json"))
	}
	got := rec.got()
	if len(got) != 8 {
		t.Fatalf("%d events", len(got))
	}
	for i := range 4 {
		if got[i].DedupKey != got[i+4].DedupKey {
			t.Errorf("replayed event %d has key %q, first %q", i, got[i+4].DedupKey, got[i].DedupKey)
		}
	}
}

func TestHookRejects(t *testing.T) {
	big := "[" + strings.Repeat(`{"phone_number":"13900000001","biz_id":"1","success":true},`, 20000) + "{}]"
	tests := []struct {
		name, target, body string
		status             int
	}{
		{"missing secret", "/r", `[]`, http.StatusUnauthorized},
		{"forged secret", "/r?secret=guess", fixture(t, "report.json"), http.StatusUnauthorized},
		{"secret prefix", "/r?secret=" + hookSecret[:4], fixture(t, "report.json"), http.StatusUnauthorized},
		{"oversized", "/r?secret=" + hookSecret, big, http.StatusRequestEntityTooLarge},
		{"not JSON", "/r?secret=" + hookSecret, `phone_number=1`, http.StatusBadRequest},
		{"object not array", "/r?secret=" + hookSecret, `{"biz_id":"1"}`, http.StatusBadRequest},
		{"truncated", "/r?secret=" + hookSecret, `[{"biz_id":"1",`, http.StatusBadRequest},
		{"null", "/r?secret=" + hookSecret, `null`, http.StatusBadRequest},
		{"missing biz_id", "/r?secret=" + hookSecret, `[{"phone_number":"13900000001","success":true}]`, http.StatusBadRequest},
		{"bad boolean", "/r?secret=" + hookSecret, `[{"phone_number":"1","biz_id":"1","success":"maybe"}]`, http.StatusBadRequest},
		{"object field", "/r?secret=" + hookSecret, `[{"phone_number":{"x":1},"biz_id":"1"}]`, http.StatusBadRequest},
		{"array item not object", "/r?secret=" + hookSecret, `["13900000001"]`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := &recorder{}
			w := post(t, sms.ReportHandler(rec.record, hookSecret, nil), tt.target, tt.body)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d (%s)", w.Code, tt.status, w.Body)
			}
			if len(rec.got()) != 0 {
				t.Error("events recorded")
			}
			if strings.Contains(w.Body.String(), "13900000001") {
				t.Errorf("answer echoes the phone: %s", w.Body)
			}
		})
	}
}

func TestUpRejectsMissingSequenceID(t *testing.T) {
	rec := &recorder{}
	w := post(t, sms.UpHandler(rec.record, hookSecret, nil), "/u?secret="+hookSecret, `[{"phone_number":"13900000001","content":"hi"}]`)
	if w.Code != http.StatusBadRequest || len(rec.got()) != 0 {
		t.Errorf("status %d, %d events", w.Code, len(rec.got()))
	}
}

func TestHookEmptySecretRefusesAll(t *testing.T) {
	rec := &recorder{}
	w := post(t, sms.ReportHandler(rec.record, "", nil), "/r?secret=", fixture(t, "report.json"))
	if w.Code != http.StatusUnauthorized || len(rec.got()) != 0 {
		t.Errorf("status %d", w.Code)
	}
}

func TestHookRecordFailureAsksForRepush(t *testing.T) {
	rec := &recorder{err: errors.New("database down")}
	w := post(t, sms.ReportHandler(rec.record, hookSecret, nil), "/r?secret="+hookSecret, fixture(t, "report.json"))
	if w.Code != http.StatusInternalServerError || strings.Contains(w.Body.String(), `"code":0`) {
		t.Errorf("answer %d %q", w.Code, w.Body)
	}
}

func TestHookMethodAndEmptyArray(t *testing.T) {
	rec := &recorder{}
	h := sms.UpHandler(rec.record, hookSecret, nil)
	req := httptest.NewRequest(http.MethodGet, "/u?secret="+hookSecret, nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", w.Code)
	}
	if w := post(t, h, "/u?secret="+hookSecret, ` [] `); w.Code != http.StatusOK {
		t.Errorf("empty array: %d", w.Code)
	}
}
