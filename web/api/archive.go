package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/archive"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerArchiveRoutes: admins file a transfer's records after it takes
// effect; admins and auditors search the archive and export its index.
func (s *API) registerArchiveRoutes(g *echo.Group) {
	g.POST("/transfers/:id/archive", s.handleArchiveRun, s.auth.Can(staff.ManageGovernance))
	g.GET("/transfers/:id/archive-index", s.handleArchiveIndex, s.auth.Can(staff.ReadAudit))
	g.GET("/archive", s.handleArchiveSearch, s.auth.Can(staff.ReadAudit))
}

// handleArchiveRun files every customer not yet archived. Large lists
// are better filed with `handover archive customers`, which shows progress.
func (s *API) handleArchiveRun(c echo.Context) error {
	n, err := s.archive.ArchiveCustomers(c.Request().Context(), c.Param("id"), kit.Member(c).Actor(), nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]int{"archived": n})
}

func (s *API) handleArchiveIndex(c echo.Context) error {
	kit.SetAttachment(c, "archive-index-"+c.Param("id")+".csv")
	return s.archive.WriteIndex(c.Request().Context(), c.Response(), c.Param("id"))
}

func (s *API) handleArchiveSearch(c echo.Context) error {
	limit, _ := strconv.Atoi(c.QueryParam("limit"))
	list, next, err := s.archive.FindRecords(c.Request().Context(), archive.Filter{TransferID: c.QueryParam("transfer_id"),
		Classification: c.QueryParam("classification"), ArchiveNo: c.QueryParam("archive_no"), RecordID: c.QueryParam("record_id"),
		Cursor: c.QueryParam("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	if list == nil {
		list = []archive.Record{}
	}
	return c.JSON(http.StatusOK, map[string]any{"data": list, "next_cursor": next})
}
