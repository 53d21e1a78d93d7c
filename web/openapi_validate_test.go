package web_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// The contract every API response of every test is held to: newAppWith
// wraps the server in validateAPI, so a status, field or type that
// web/openapi.yaml does not document fails the test that caused it.

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
		b, err := os.ReadFile("openapi.yaml")
		if err != nil {
			specErr = err
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(b)
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
		route, params, err := router.FindRoute(r)
		if err != nil {
			// Not an operation (an unknown path or method): the route
			// test keeps served and documented operations equal.
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route},
			Status:                 status,
			Header:                 w.Header(),
			Body:                   io.NopCloser(bytes.NewReader(rec.body.Bytes())),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
		}
		if status == http.StatusNoContent || rec.body.Len() == 0 {
			in.Options.ExcludeResponseBody = true
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			body := rec.body.String()
			if len(body) > 600 {
				body = body[:600] + "…"
			}
			t.Errorf("%s %s: %d does not match web/openapi.yaml (%s %s): %v\nbody: %s",
				r.Method, r.URL.RequestURI(), status, strings.ToUpper(route.Method), route.Path, err, body)
		}
	})
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
