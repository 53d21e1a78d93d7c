package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerCorrectionRoutes(g *echo.Group) {
	g.GET("/corrections", s.handleCorrectionList, s.auth.Can(staff.ReviewCorrections))
	g.POST("/corrections/:id/reveal", s.handleCorrectionReveal, s.auth.Can(staff.ReviewCorrections), s.auth.Can(staff.RevealCustomers))
	g.POST("/corrections/:id/approve", s.handleCorrectionApprove, s.auth.Can(staff.ReviewCorrections))
	g.POST("/corrections/:id/reject", s.handleCorrectionReject, s.auth.Can(staff.ReviewCorrections))
}

type correctionFieldsJSON struct {
	Name    string `json:"name,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Email   string `json:"email,omitempty"`
	Address string `json:"address,omitempty"`
	Company string `json:"company,omitempty"`
}

type correctionJSON struct {
	ID         string               `json:"id"`
	CustomerID string               `json:"customer_id"`
	Status     string               `json:"status"`
	Fields     []string             `json:"fields"`
	Current    correctionFieldsJSON `json:"current"`
	Proposed   correctionFieldsJSON `json:"proposed"`
	Source     string               `json:"source"`
	Reason     string               `json:"reason,omitempty"`
	DecidedBy  string               `json:"decided_by,omitempty"`
	DecidedAt  *time.Time           `json:"decided_at,omitempty"`
	Masked     bool                 `json:"masked"`
	// CustomerTold is set by a rejection: whether its reason went to the
	// customer on their channel.
	CustomerTold *bool     `json:"customer_told,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toCorrectionJSON(r rights.CorrectionRequest, masked bool) correctionJSON {
	if masked {
		r = r.Masked()
	}
	fields := r.Fields
	if fields == nil {
		fields = []string{}
	}
	return correctionJSON{ID: r.ID, CustomerID: r.CustomerID, Status: r.Status.String(), Fields: fields,
		Current: correctionFieldsJSON(r.Current), Proposed: correctionFieldsJSON(r.Proposed), Source: r.Source, Reason: r.Reason,
		DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, Masked: masked, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// handleCorrectionList lists correction requests, masked, a page at a time.
func (s *API) handleCorrectionList(c echo.Context) error {
	f := rights.CorrectionFilter{Status: rights.CorrectionStatus(c.QueryParam("status")), Cursor: c.QueryParam("cursor")}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return handover.Errorf(handover.EINVALID, "limit must be a number from 1 to 200")
		}
		f.Limit = n
	}
	list, next, err := s.rights.FindCorrections(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]correctionJSON, len(list))
	for i, r := range list {
		out[i] = toCorrectionJSON(*r, true)
	}
	if err := s.auth.RecordAccess(c, "correction.list", "correction", "", "count="+strconv.Itoa(len(out))); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out, "next_cursor": next})
}

type reasonRequest struct {
	Reason string `json:"reason"`
}

// handleCorrectionReveal shows one request unmasked, for a stated reason.
func (s *API) handleCorrectionReveal(c echo.Context) error {
	var req reasonRequest
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	r, err := s.rights.RevealCorrection(c.Request().Context(), c.Param("id"), kit.Member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, toCorrectionJSON(*r, false))
}

// handleCorrectionApprove applies a pending request to the customer.
func (s *API) handleCorrectionApprove(c echo.Context) error {
	r, err := s.rights.ApproveCorrection(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCorrectionJSON(*r, true))
}

// handleCorrectionReject refuses a request with the reason the customer is
// owed, and sends it to them on their channel (customer_told).
func (s *API) handleCorrectionReject(c echo.Context) error {
	var req reasonRequest
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	r, told, err := kit.RejectCorrection(c.Request().Context(), s.customers, s.rights, s.tickets, s.log, c.Param("id"), kit.Member(c), req.Reason)
	if err != nil {
		return err
	}
	out := toCorrectionJSON(*r, true)
	out.CustomerTold = &told
	return c.JSON(http.StatusOK, out)
}
