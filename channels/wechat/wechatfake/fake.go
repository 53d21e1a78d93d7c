// Package wechatfake is a fake WeChat official-account API for tests: the
// real SDK talks to it over HTTP. It issues and checks access tokens,
// records the messages sent, and can expire the token, fail chosen openids
// or the next calls with given errcodes, answer HTTP errors, and delay.
// It also builds signed callback requests (plain and AES safe mode).
//
// All fakes of a test binary share one listener, because the SDK's HTTP
// client is a process-wide global that can point at one address only. Each
// Server has its own AppID, secret and tokens, and requests are routed by
// them, so tests using different Servers may run in parallel.
package wechatfake

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sent is one message the fake accepted.
type Sent struct {
	API         string // "template", "subscribe" or "custom"
	ToUser      string
	TemplateID  string
	URL         string // template message link
	Page        string // subscribe message link
	ClientMsgID string
	Text        string // customer-service text
	Data        map[string]string
	MsgID       int64 // template messages
}

// Server is one fake official account.
type Server struct {
	AppID, AppSecret, Token, EncodingAESKey string

	id string
	mu sync.Mutex
	// token is the one valid access token ("" until fetched).
	token        string
	generation   int
	tokenFetches int
	sent         []Sent
	clientMsgIDs map[string]int64 // openid+client_msg_id → msgid
	failOpenID   map[string]int
	failNext     []int // errcodes for the next sends
	statusNext   []int // HTTP statuses for the next requests
	delay        time.Duration
	oauthCodes   map[string]oauthCode
	nextMsgID    int64
}

type oauthCode struct {
	openID   string
	snapshot bool
	used     bool
}

var shared struct {
	once    sync.Once
	srv     *httptest.Server
	mu      sync.Mutex
	seq     int
	servers map[string]*Server // by id and by AppID
}

// New starts (or joins) the shared fake and returns a fresh account,
// removed when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	shared.once.Do(func() {
		shared.servers = map[string]*Server{}
		shared.srv = httptest.NewServer(http.HandlerFunc(route))
	})
	shared.mu.Lock()
	shared.seq++
	id := fmt.Sprintf("%d", shared.seq)
	s := &Server{
		AppID:          "wxfake" + id + randHex(4),
		AppSecret:      randHex(16),
		Token:          "tok" + randHex(8),
		EncodingAESKey: strings.TrimRight(base64.StdEncoding.EncodeToString(randBytes(32)), "="),
		id:             id,
		clientMsgIDs:   map[string]int64{},
		failOpenID:     map[string]int{},
		oauthCodes:     map[string]oauthCode{},
		nextMsgID:      2_000_000_000 + int64(shared.seq)*1_000_000,
	}
	shared.servers[s.id] = s
	shared.servers[s.AppID] = s
	shared.mu.Unlock()
	t.Cleanup(func() {
		shared.mu.Lock()
		delete(shared.servers, s.id)
		delete(shared.servers, s.AppID)
		shared.mu.Unlock()
	})
	return s
}

// URL is the API base to put in the channel's Config.APIBase. It is the
// same for every Server of the process.
func (s *Server) URL() string { return shared.srv.URL }

// Sent returns the messages accepted so far.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// TokenFetches counts access tokens issued.
func (s *Server) TokenFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenFetches
}

// ExpireToken invalidates the current access token: calls with it get
// errcode 40001 until a new token is fetched.
func (s *Server) ExpireToken() {
	s.mu.Lock()
	s.token = ""
	s.mu.Unlock()
}

// FailFor makes every send to openID answer errcode.
func (s *Server) FailFor(openID string, errcode int) {
	s.mu.Lock()
	s.failOpenID[openID] = errcode
	s.mu.Unlock()
}

// FailNext makes the next n sends (template, subscribe, customer-service)
// answer errcode; token and OAuth calls are not counted.
func (s *Server) FailNext(n, errcode int) {
	s.mu.Lock()
	for range n {
		s.failNext = append(s.failNext, errcode)
	}
	s.mu.Unlock()
}

// StatusNext makes the next n requests of any kind, token fetches
// included, answer HTTP status.
func (s *Server) StatusNext(n, status int) {
	s.mu.Lock()
	for range n {
		s.statusNext = append(s.statusNext, status)
	}
	s.mu.Unlock()
}

// SetDelay delays every answer by d.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	s.delay = d
	s.mu.Unlock()
}

// AddOAuthCode makes code exchangeable (once) for openID; snapshot marks
// the snapshot-page virtual user.
func (s *Server) AddOAuthCode(code, openID string, snapshot bool) {
	s.mu.Lock()
	s.oauthCodes[code] = oauthCode{openID: openID, snapshot: snapshot}
	s.mu.Unlock()
}

// errmsgs are WeChat's texts for the errcodes tests use.
var errmsgs = map[int]string{
	-1:    "system error",
	40001: "invalid credential, access_token is invalid or not latest",
	40003: "invalid openid",
	40013: "invalid appid",
	40029: "invalid code",
	40037: "invalid template_id",
	40125: "invalid appsecret",
	40163: "code been used",
	41001: "access_token missing",
	43004: "require subscribe",
	43101: "user refuse to accept the msg",
	45009: "reach max api daily quota limit",
	45015: "response out of time limit or subscription is canceled",
	45047: "out of response count limit",
	48001: "api unauthorized",
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, code int) {
	msg := errmsgs[code]
	if msg == "" {
		msg = "fake error"
	}
	writeJSON(w, map[string]any{"errcode": code, "errmsg": msg + " rid: fake-" + randHex(4)})
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func randHex(n int) string { return hex.EncodeToString(randBytes(n)) }

// AccessToken is the currently valid access token ("" before the first
// fetch or after ExpireToken), for tests that check it never leaks.
func (s *Server) AccessToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}
