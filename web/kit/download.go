package kit

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Download is a file download named name that sets its headers on the
// response's first write, so an error found before then still gets an
// error response.
func Download(c echo.Context, name string) *FirstWrite { return &FirstWrite{c: c, name: name} }

// FirstWrite sets the download headers on the response's first write.
type FirstWrite struct {
	c       echo.Context
	name    string
	started bool
}

// Started reports whether the response has begun: too late for a status.
func (w *FirstWrite) Started() bool { return w.started }

func (w *FirstWrite) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, "application/octet-stream")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+w.name+`"`)
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

// SetAttachment starts a CSV download.
func SetAttachment(c echo.Context, name string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	h.Set(echo.HeaderCacheControl, "no-store")
	c.Response().WriteHeader(http.StatusOK)
}
