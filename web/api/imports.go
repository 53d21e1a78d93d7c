package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerImportRoutes(g *echo.Group) {
	g.POST("/customers/import", s.handleImportCreate, s.auth.Can(staff.ImportCustomers), s.uploadLimit)
	g.GET("/imports/:id", s.handleImportView, s.auth.Can(staff.ImportCustomers))
}

// uploadLimit bounds an upload at HANDOVER_MAX_UPLOAD_MB.
func (s *API) uploadLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := s.cfg.MaxUploadMB << 20
		if c.Request().ContentLength > limit {
			return handover.Errorf(handover.ETOOLARGE, "The file is larger than %d MB (HANDOVER_MAX_UPLOAD_MB).", s.cfg.MaxUploadMB)
		}
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, limit)
		return next(c)
	}
}

type importJSON struct {
	ID            string         `json:"id"`
	FileName      string         `json:"file_name"`
	Format        string         `json:"format"`
	Status        string         `json:"status"`
	TotalRows     int64          `json:"total_rows"`
	ProcessedRows int64          `json:"processed_rows"`
	Created       int64          `json:"created"`
	Updated       int64          `json:"updated"`
	Rejected      int64          `json:"rejected"`
	Failure       string         `json:"failure,omitempty"`
	Errors        []rowErrorJSON `json:"errors"`
	CreatedAt     time.Time      `json:"created_at"`
	StartedAt     *time.Time     `json:"started_at,omitempty"`
	FinishedAt    *time.Time     `json:"finished_at,omitempty"`
}

// rowErrorJSON is one rejected row as the API documents it.
type rowErrorJSON struct {
	Row    int64  `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func toImportJSON(im *importer.Import) importJSON {
	errs := make([]rowErrorJSON, len(im.Errors))
	for i, e := range im.Errors {
		errs[i] = rowErrorJSON{Row: e.Row, Field: e.Field, Reason: e.Reason}
	}
	return importJSON{ID: im.ID, FileName: im.FileName, Format: im.Format, Status: im.Status.String(), TotalRows: im.TotalRows,
		ProcessedRows: im.ProcessedRows, Created: im.Created, Updated: im.Updated, Rejected: im.Rejected, Failure: im.Failure,
		Errors: errs, CreatedAt: im.CreatedAt, StartedAt: im.StartedAt, FinishedAt: im.FinishedAt}
}

// handleImportCreate accepts a CSV or XLSX upload (multipart field "file",
// optional JSON "mapping" and CSV "encoding") and starts importing it in
// the background.
func (s *API) handleImportCreate(c echo.Context) error {
	if !strings.HasPrefix(c.Request().Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
		return handover.Errorf(handover.EINVALID, "Upload the file as multipart/form-data in a field named \"file\".")
	}
	if err := c.Request().ParseMultipartForm(8 << 20); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return handover.Errorf(handover.ETOOLARGE, "The file is larger than %d MB (HANDOVER_MAX_UPLOAD_MB).", s.cfg.MaxUploadMB)
		}
		return handover.Errorf(handover.EINVALID, "The upload is not a readable multipart form.")
	}
	defer c.Request().MultipartForm.RemoveAll()
	mapping, err := importer.ParseMapping(c.FormValue("mapping"))
	if err != nil {
		return err
	}
	encoding, err := importer.ParseEncoding(c.FormValue("encoding"))
	if err != nil {
		return err
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return handover.Errorf(handover.EINVALID, "The form has no file in a field named \"file\".")
	}
	if kit.BadValues(c.Request().MultipartForm.Value, true) || kit.BadText(fh.Filename, false) { // kit.CheckText leaves multipart bodies here
		return kit.ErrBadText
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	im, err := s.importer.Start(c.Request().Context(), fh.Filename, f, &importer.Options{Mapping: mapping, Encoding: encoding}, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/imports/"+im.ID)
	return c.JSON(http.StatusAccepted, toImportJSON(im))
}

// handleImportView reports an import's progress, counts and rejected rows.
func (s *API) handleImportView(c echo.Context) error {
	im, err := s.importer.FindImportByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toImportJSON(im))
}
