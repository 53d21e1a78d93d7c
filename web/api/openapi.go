package api

import (
	"bytes"
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI is the API's contract; a test keeps it in step with the routes.
//
//go:embed openapi.yaml
var openAPI []byte

// OpenAPI is the API's contract (openapi.yaml), for the tests that hold
// every response of the server to it.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

func (s *API) handleOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPI)
}
