package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	application "github.com/handoverhq/handover/app"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web"
)

// app is a running server on a real database and Redis, and what tests
// need to drive it.
type app struct {
	t          testing.TB
	url        string
	handler    http.Handler // the server's routes, for tests that list them
	db         *database.DB
	staff      *staff.Store
	customers  *customers.Store
	importer   *importer.Importer
	transfers  *transfers.Store
	rights     *rights.Store
	devbox     *devbox.Channel
	templates  *templates.Store
	campaigns  *campaigns.Service
	governance *governance.Service
	links      *links.Store
	tickets    *feedback.Service
	inbox      *channels.Inbox
	queue      *queue.Queue
	logs       *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newApp(t testing.TB, db *database.DB, q *queue.Queue, env ...string) *app {
	t.Helper()
	return newAppWith(t, db, q, nil, env...)
}

// newAppWith is newApp with a chance to change the server's deps (e.g. add
// a WeChat channel) before it starts. The application is built as serve
// builds it (package app), on the test's database and Redis, its log in
// a.logs; the devbox records messages even when a test turns a provider on.
func newAppWith(t testing.TB, db *database.DB, q *queue.Queue, change func(*web.Deps), env ...string) *app {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Load(append([]string{"HANDOVER_DATA_DIR=" + t.TempDir(), "HANDOVER_MASTER_KEY=" + masterkey.Generate()}, env...))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h := &application.App{Config: cfg, Log: application.NewLogger(cfg, logs), DB: db, Queue: q, DevboxAlways: true}
	t.Cleanup(h.Close)
	if err := h.OpenStores(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.OpenServices(ctx); err != nil {
		t.Fatal(err)
	}
	a := &app{t: t, db: db, staff: h.Staff, customers: h.Customers, importer: h.Importer, transfers: h.Transfers, rights: h.Rights, devbox: h.Devbox, templates: h.Templates,
		campaigns: h.Campaigns, governance: h.Governance, links: h.Links, tickets: h.Tickets, inbox: h.Inbox, queue: q, logs: logs}
	deps := h.WebDeps()
	if change != nil {
		change(&deps)
	}
	srv := web.New(deps)
	a.handler = srv.Handler()
	ts := httptest.NewServer(validateAPI(t, srv.Handler())) // responses held to web/api/openapi.yaml
	t.Cleanup(ts.Close)
	a.url = ts.URL
	return a
}

// tokenFor creates a staff member with role and returns their API token.
func (a *app) tokenFor(role staff.Role) string {
	a.t.Helper()
	ctx := context.Background()
	email := string(role) + "-" + strings.ToLower(a.t.Name()[len(a.t.Name())-6:]) + "@example.com"
	email = strings.NewReplacer("/", "", " ", "").Replace(email)
	if err := a.staff.CreateMember(ctx, &staff.Member{Email: email, Role: role}, "", "test"); err != nil {
		a.t.Fatal(err)
	}
	token, err := a.staff.CreateAPIToken(ctx, email, "test", "test")
	if err != nil {
		a.t.Fatal(err)
	}
	return token
}

// do sends a request and decodes a JSON answer into out (if not nil).
func (a *app) do(method, path, token, contentType string, body io.Reader, out any) *http.Response {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, body)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp
}

func (a *app) getJSON(path, token string, out any) int {
	return a.do(http.MethodGet, path, token, "", nil, out).StatusCode
}

func (a *app) postJSON(path, token, body string, out any) int {
	return a.do(http.MethodPost, path, token, "application/json", strings.NewReader(body), out).StatusCode
}

// upload posts a file as multipart field "file" (and optional mapping).
func (a *app) upload(token, name string, content []byte, mapping string, out any) int {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if mapping != "" {
		w.WriteField("mapping", mapping)
	}
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(content)
	w.Close()
	return a.do(http.MethodPost, "/api/v1/customers/import", token, w.FormDataContentType(), &buf, out).StatusCode
}

type apiError struct {
	Error struct {
		Code, Title, Message, RequestID string
	} `json:"error"`
}

func eachBackend(t *testing.T, fn func(t *testing.T, a *app)) {
	t.Helper()
	eachBackendWith(t, nil, fn)
}

// eachBackendWith is eachBackend with configuration variables set.
func eachBackendWith(t *testing.T, env []string, fn func(t *testing.T, a *app)) {
	t.Helper()
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		fn(t, newApp(t, db, queuetest.Open(t), env...))
	})
}
