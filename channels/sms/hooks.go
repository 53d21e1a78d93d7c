package sms

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/handoverhq/handover/channels"
)

// maxHookBody bounds a push body; Aliyun batches at most a few hundred
// items per push.
const maxHookBody = 1 << 20

// ackBody is the answer Aliyun expects; anything else makes it re-push.
const ackBody = `{"code":0,"msg":"接收成功"}`

// ReportHandler serves POST /hooks/aliyun/sms/report (SmsReport push):
// each item becomes an EventReceipt, recorded before Aliyun is answered.
// secret must match the URL's secret query parameter.
func ReportHandler(record channels.RecordFunc, secret string, log *slog.Logger) http.Handler {
	return hookHandler{kind: "report", secret: secret, record: record, log: log, parse: parseReports}
}

// UpHandler serves POST /hooks/aliyun/sms/up (SmsUp push): each item, a
// customer's reply, becomes an EventMessage addressed To the sign name.
func UpHandler(record channels.RecordFunc, secret string, log *slog.Logger) http.Handler {
	return hookHandler{kind: "up", secret: secret, record: record, log: log, parse: parseUps}
}

type hookHandler struct {
	kind   string
	secret string
	record channels.RecordFunc
	log    *slog.Logger
	parse  func([]byte) ([]channels.InboundEvent, error)
}

func (h hookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !secretOK(h.secret, r.URL.Query().Get("secret")) {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxHookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	events, err := h.parse(body)
	if err != nil {
		http.Error(w, fmt.Sprintf("malformed SMS %s push: %v", h.kind, err), http.StatusBadRequest)
		return
	}
	if len(events) > 0 {
		added, err := h.record(r.Context(), events)
		if err != nil {
			h.logger().ErrorContext(r.Context(), "aliyun sms push not stored", "kind", h.kind, "events", len(events), "err", err)
			http.Error(w, "not stored, push again", http.StatusInternalServerError)
			return
		}
		h.logger().InfoContext(r.Context(), "aliyun sms push stored", "kind", h.kind, "events", len(events), "new", added)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = io.WriteString(w, ackBody)
}

func (h hookHandler) logger() *slog.Logger {
	if h.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.log
}

// secretOK compares in constant time; an empty configured secret refuses
// everything rather than accepting everything.
func secretOK(want, got string) bool {
	if want == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
}

// parseReports turns an SmsReport body into receipts.
func parseReports(body []byte) ([]channels.InboundEvent, error) {
	var items []reportItem
	if err := decodeArray(body, &items); err != nil {
		return nil, err
	}
	events := make([]channels.InboundEvent, 0, len(items))
	for i, it := range items {
		if it.BizID == "" || it.PhoneNumber == "" {
			return nil, fmt.Errorf("item %d: biz_id and phone_number are required", i)
		}
		phone := normalizePhone(string(it.PhoneNumber))
		e := channels.InboundEvent{
			Channel:           channels.SMS,
			Kind:              channels.EventReceipt,
			DedupKey:          receiptKey(string(it.BizID), phone),
			From:              channels.Address{Phone: phone},
			ProviderMessageID: string(it.BizID),
			DeliveryID:        string(it.OutID),
			Status:            channels.StatusDelivered,
			OccurredAt:        chinaTime(string(it.ReportTime), string(it.SendTime)),
		}
		if !bool(it.Success) {
			e.Status = channels.StatusFailed
			e.ErrorCode = string(it.ErrCode)
		}
		events = append(events, e)
	}
	return events, nil
}

// parseUps turns an SmsUp body into customer messages.
func parseUps(body []byte) ([]channels.InboundEvent, error) {
	var items []upItem
	if err := decodeArray(body, &items); err != nil {
		return nil, err
	}
	events := make([]channels.InboundEvent, 0, len(items))
	for i, it := range items {
		if it.SequenceID == "" || it.PhoneNumber == "" {
			return nil, fmt.Errorf("item %d: sequence_id and phone_number are required", i)
		}
		events = append(events, channels.InboundEvent{
			Channel:    channels.SMS,
			Kind:       channels.EventMessage,
			DedupKey:   string(it.SequenceID),
			From:       channels.Address{Phone: normalizePhone(string(it.PhoneNumber))},
			To:         string(it.SignName),
			Text:       string(it.Content),
			OccurredAt: chinaTime(string(it.SendTime)),
		})
	}
	return events, nil
}

// receiptKey is the dedup key of a receipt, the same for a push and for
// QuerySendDetails: biz_id is shared by a whole SendBatchSms call.
func receiptKey(bizID, e164 string) string { return bizID + ":" + e164 }

// chinaTime parses the first non-empty "2006-01-02 15:04:05" Beijing time;
// zero if none parses (the Inbox then uses its own clock).
func chinaTime(values ...string) time.Time {
	for _, v := range values {
		if t, err := time.ParseInLocation(time.DateTime, v, china); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
