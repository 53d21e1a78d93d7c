// Package smsfake is a local stand-in for Aliyun's SMS API (RPC style,
// dysmsapi 2017-05-25) for tests that drive the real SDK. It checks what
// it receives as Aliyun would (access key, HMAC-SHA1 signature, required
// parameters, batch shapes), records every accepted message, and can be
// told to fail: a business code, an HTTP status, a delay (sends and
// QuerySendDetails alike).
package smsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/internal/aliyunfake"
)

// Credentials the fake accepts; Config uses them.
const (
	AccessKeyID     = aliyunfake.AccessKeyID
	AccessKeySecret = aliyunfake.AccessKeySecret
	SignName        = "Handover"
)

// Message is one accepted message, one per phone.
type Message struct {
	Action       string // SendSms or SendBatchSms
	Phone        string // as sent: 11 digits for mainland numbers
	SignName     string
	TemplateCode string
	Params       map[string]string
	OutID        string // SendSms only
	BizID        string
	SentAt       time.Time
	// Text is what the phone shows: 【sign】 and the approved text with the
	// params filled in ("" when no template is filed with the fake).
	Text string
}

// Call is one request the fake answered, accepted or not.
type Call struct {
	Action string
	Phones int    // numbers in the request
	Code   string // Code answered ("OK", an error code, or "" for a bare HTTP error)
	Status int
}

// Fault is a programmed failure. Delay is applied first (a delay alone
// still answers OK); then Status, if set, answers that HTTP status with
// Code in the body; else Code, if set, answers HTTP 200 with that Code, as
// Aliyun does for business errors.
type Fault struct {
	Code    string
	Message string
	Status  int
	Delay   time.Duration
}

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	URL  string // http://127.0.0.1:port
	Host string // 127.0.0.1:port

	mu       sync.Mutex
	seq      int
	messages []Message
	calls    []Call
	next     []Fault // consumed one per call
	byPhone  map[string]Fault
	reports  map[string]report // phone → what QuerySendDetails says
	lose     map[string]bool   // phones whose next send's answer is lost
	// templates filed on the account, by code, in filing order.
	templates     map[string]Template
	templateOrder []string
}

// report is a SendStatus (1 waiting, 2 failed, 3 delivered) and ErrCode.
type report struct {
	status  int
	errCode string
}

// New starts a fake, stopped when the test ends.
func New(t testing.TB) *Server {
	s := &Server{byPhone: map[string]Fault{}, reports: map[string]report{}, lose: map[string]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	s.Host = strings.TrimPrefix(srv.URL, "http://")
	return s
}

// Config returns a channel configuration pointing the real SDK at the fake.
func (s *Server) Config() sms.Config {
	return sms.Config{
		AccessKeyID:     AccessKeyID,
		AccessKeySecret: AccessKeySecret,
		Endpoint:        s.Host,
		Scheme:          "http",
		SignName:        SignName,
		Timeout:         2 * time.Second,
	}
}

// FailNext makes the next n calls answer with f.
func (s *Server) FailNext(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.next = append(s.next, f)
	}
}

// FailPhone makes every call that includes phone (as sent, e.g. 11
// digits) answer with f, until Reset.
func (s *Server) FailPhone(phone string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byPhone[phone] = f
}

// LoseAnswer makes the next send to phone (as sent, e.g. 11 digits) go
// out, and its answer be lost: the connection closes without a reply, as
// when a network drops the response. Later sends are answered.
func (s *Server) LoseAnswer(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose[phone] = true
}

// Undeliverable makes QuerySendDetails report messages to phone as failed
// with errCode; others are reported delivered.
func (s *Server) Undeliverable(phone, errCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports[phone] = report{status: 2, errCode: errCode}
}

// Waiting makes QuerySendDetails report messages to phone as waiting for
// their carrier (SendStatus 1), until Delivered, Undeliverable or Reset.
func (s *Server) Waiting(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reports[phone] = report{status: 1}
}

// Delivered makes QuerySendDetails report messages to phone as delivered
// again, the default.
func (s *Server) Delivered(phone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.reports, phone)
}

// Reset forgets programmed faults, messages and calls.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.messages, s.calls = nil, nil, nil
	s.byPhone = map[string]Fault{}
	s.reports = map[string]report{}
	s.lose = map[string]bool{}
}

// Messages returns a copy of the accepted messages, in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Calls returns a copy of the answered calls, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// fault picks the programmed fault for a call to phones, if any.
func (s *Server) fault(phones []string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.next) > 0 {
		f := s.next[0]
		s.next = s.next[1:]
		return f, true
	}
	for _, p := range phones {
		if f, ok := s.byPhone[p]; ok {
			return f, true
		}
	}
	return Fault{}, false
}

func (s *Server) newIDs() (bizID, requestID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%06d^%d", s.seq, 1000+s.seq), fmt.Sprintf("FAKE-REQ-%06d", s.seq)
}

// logCall records a call and the messages it accepted, and reports
// whether the answer is to be lost (LoseAnswer).
func (s *Server) logCall(c Call, msgs []Message) (lost bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, c)
	now := time.Now()
	for i := range msgs {
		msgs[i].SentAt = now
		if s.lose[msgs[i].Phone] {
			delete(s.lose, msgs[i].Phone)
			lost = true
		}
	}
	s.messages = append(s.messages, msgs...)
	return lost
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
