package sms_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/sms"
)

func fuzzHook(f *testing.F, fixtureName string, newHandler func(channels.RecordFunc) http.Handler, kind channels.EventKind) {
	if b, err := os.ReadFile("testdata/" + fixtureName); err == nil {
		f.Add(b)
	}
	for _, s := range []string{`[]`, `[{}]`, `null`, `{"a":1}`, `[{"sequence_id":1e400}]`, `[{"success":"TRUE","biz_id":1,"phone_number":86}]`, "\xff[", `[{"phone_number":"+","sequence_id":"0","biz_id":"0"}]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := &recorder{}
		h := newHandler(rec.record)
		req := httptest.NewRequest(http.MethodPost, "/hook?secret="+hookSecret, bytes.NewReader(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch w.Code {
		case http.StatusBadRequest:
			if len(rec.got()) != 0 {
				t.Fatal("events recorded with a 400")
			}
		case http.StatusOK:
			for _, e := range rec.got() {
				if e.Channel != channels.SMS || e.Kind != kind || e.DedupKey == "" || e.From.Phone == "" {
					t.Fatalf("bad event %+v", e)
				}
			}
		default:
			t.Fatalf("status %d", w.Code)
		}
	})
}

func FuzzReportBody(f *testing.F) {
	fuzzHook(f, "report.json", func(r channels.RecordFunc) http.Handler { return sms.ReportHandler(r, hookSecret, nil) }, channels.EventReceipt)
}

func FuzzUpBody(f *testing.F) {
	fuzzHook(f, "up.json", func(r channels.RecordFunc) http.Handler { return sms.UpHandler(r, hookSecret, nil) }, channels.EventMessage)
}
