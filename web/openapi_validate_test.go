package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/handoverhq/handover/web/api"
)

// The contract every API response of every test is held to: newAppWith
// wraps the server in validateAPI, so a status, field or type that
// web/api/openapi.yaml does not document fails the test that caused it.

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

func openAPIRouter() (routers.Router, error) {
	specOnce.Do(func() {
		// The documents and reports the API serves as HTML are checked
		// for their status and content type; their bodies are pages.
		openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(api.OpenAPI())
		if err != nil {
			specErr = err
			return
		}
		if specErr = doc.Validate(loader.Context); specErr != nil {
			return
		}
		specRouter, specErr = legacy.NewRouter(doc)
	})
	return specRouter, specErr
}

// validateAPI checks each /api/v1 response next gives against the spec:
// its status must be documented for the operation, its content type too,
// and a JSON body must match the schema. Benchmarks are not checked.
func validateAPI(tb testing.TB, next http.Handler) http.Handler {
	t, ok := tb.(*testing.T)
	if !ok {
		return next
	}
	router, err := openAPIRouter()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/v1/") {
			next.ServeHTTP(w, r)
			return
		}
		rec := &teeWriter{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if err := checkResponse(router, r, status, w.Header(), rec.body.Bytes()); err != nil {
			body := rec.body.String()
			if len(body) > 600 {
				body = body[:600] + "…"
			}
			t.Errorf("%s %s: %d does not match web/api/openapi.yaml: %v\nbody: %s", r.Method, r.URL.RequestURI(), status, err, body)
		}
	})
}

// checkResponse holds one response to the spec; a request that is no
// operation (an unknown path or method) passes, as the route test keeps
// served and documented operations equal.
func checkResponse(router routers.Router, r *http.Request, status int, header http.Header, body []byte) error {
	route, params, err := router.FindRoute(r)
	if err != nil {
		return nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if status == http.StatusNoContent || len(body) == 0 {
		in.Options.ExcludeResponseBody = true
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}

// TestResponseCheckCatchesDrift: the check fails a status the operation
// does not document, a field renamed (the import report's Row/Field/Reason
// once), a field the schema does not know, and a wrong type.
func TestResponseCheckCatchesDrift(t *testing.T) {
	router, err := openAPIRouter()
	if err != nil {
		t.Fatal(err)
	}
	get := httptest.NewRequest(http.MethodGet, "/api/v1/imports/01J000000000000000000000000", nil)
	const good = `{"id":"i","file_name":"a.csv","format":"csv","status":"completed","total_rows":1,"processed_rows":1,` +
		`"created":0,"updated":0,"rejected":1,"errors":[%s],"created_at":"2025-07-01T00:00:00Z"%s}`
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	cases := []struct {
		name   string
		status int
		body   string
		ok     bool
	}{
		{"as documented", 200, fmt.Sprintf(good, `{"row":4,"field":"phone","reason":"not a phone number"}`, ""), true},
		{"status not documented", 418, `{"error":{"code":"invalid","title":"t","message":"m"}}`, false},
		{"fields renamed", 200, fmt.Sprintf(good, `{"Row":4,"Field":"phone","Reason":"not a phone number"}`, ""), false},
		{"field not documented", 200, fmt.Sprintf(good, "", `,"secret":"x"`), false},
		{"wrong type", 200, strings.Replace(fmt.Sprintf(good, "", ""), `"total_rows":1`, `"total_rows":"1"`, 1), false},
		{"field missing", 200, strings.Replace(fmt.Sprintf(good, "", ""), `"status":"completed",`, "", 1), false},
	}
	for _, c := range cases {
		err := checkResponse(router, get, c.status, jsonHeader, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%s: check says %v", c.name, err)
		}
	}
}

// teeWriter passes a response through and keeps a copy to check.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
