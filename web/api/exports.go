package api

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerExportRoutes(g *echo.Group) {
	g.POST("/transfers/:id/exports", s.handleExportCreate, s.auth.Can(staff.ExportTransfers))
}

type exportRequest struct {
	Recipient string   `json:"recipient"`
	Rule      string   `json:"rule"`
	Purposes  []string `json:"purposes"`
	DryRun    bool     `json:"dry_run"`
}

// handleExportCreate streams the buyer's package, encrypted to the
// recipient's age key, or with dry_run answers the counts per rule.
func (s *API) handleExportCreate(c echo.Context) error {
	var req exportRequest
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	ex := s.exporter
	rule := lifecycle.Rule{Mode: req.Rule, Purposes: req.Purposes}
	if req.DryRun {
		counts, err := ex.DryRun(c.Request().Context(), c.Param("id"), rule)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, counts)
	}
	// Headers go out with the first byte: an error found before then
	// (bad key, unknown transfer) still answers as JSON.
	w := kit.Download(c, fmt.Sprintf("handover-%s.tar.age", c.Param("id")))
	_, err := ex.Export(c.Request().Context(), lifecycle.ExportRequest{TransferID: c.Param("id"), Recipient: req.Recipient,
		Rule: rule, Actor: kit.Member(c).Actor()}, w)
	if err != nil && w.Started() {
		// Too late for a status: the truncated package fails to decrypt.
		kit.RequestLog(s.log, c).Error("export failed mid-stream", "transfer", c.Param("id"), "err", err)
		return nil
	}
	return err
}
