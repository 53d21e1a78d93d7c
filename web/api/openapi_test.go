package api

import (
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"
)

// TestOpenAPIMatchesRoutes keeps openapi.yaml true: every /api/v1
// route is documented with its method, and nothing documented is missing.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                            `yaml:"openapi"`
		Paths   map[string]map[string]interface{} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(openAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" /api/v1"+path] = true
		}
	}
	e := echo.New()
	New(Deps{}).Register(e)
	var served []string
	for _, r := range e.Routes() {
		// Echo adds a catch-all per group with middleware; it is no route.
		if !strings.HasPrefix(r.Path, "/api/v1/") || r.Method == echo.RouteNotFound {
			continue
		}
		key := r.Method + " " + openAPIPath(r.Path)
		served = append(served, key)
		if !documented[key] {
			t.Errorf("route %s is not in openapi.yaml", key)
		}
		delete(documented, key)
	}
	for key := range documented {
		t.Errorf("openapi.yaml documents %s, which is not served", key)
	}
	sort.Strings(served)
	if len(served) < 8 {
		t.Fatalf("only %d API routes found: %v", len(served), served)
	}
}

// openAPIPath turns Echo's :param into OpenAPI's {param}.
func openAPIPath(p string) string {
	parts := strings.Split(p, "/")
	for i, part := range parts {
		if strings.HasPrefix(part, ":") {
			parts[i] = "{" + part[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// TestOpenAPIValid loads openapi.yaml as kin-openapi does, validates it
// as an OpenAPI 3 document and wants every operation named by a unique
// operationId, so `make test` catches what `make lint-openapi` would even
// where node is not installed.
func TestOpenAPIValid(t *testing.T) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openAPI)
	if err != nil {
		t.Fatalf("openapi.yaml does not load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not valid OpenAPI: %v", err)
	}
	seen := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			switch {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", where)
			case seen[op.OperationID] != "":
				t.Errorf("%s and %s share operationId %q", seen[op.OperationID], where, op.OperationID)
			}
			seen[op.OperationID] = where
		}
	}
}
