package api

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerRightsRoutes(g *echo.Group) {
	g.GET("/customers/:id/data", s.handleCustomerData, s.auth.Can(staff.RevealCustomers))
	g.POST("/customers/:id/erase", s.handleCustomerErase, s.auth.Can(staff.EraseCustomers))
	g.POST("/customers/:id/erase/refuse", s.handleCustomerEraseRefuse, s.auth.Can(staff.EraseCustomers))
}

// handleCustomerData gives everything held about a customer (PIPL Art. 45),
// as JSON or, with ?format=csv, as a CSV file; the read is audited.
func (s *API) handleCustomerData(c echo.Context) error {
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return handover.Errorf(handover.EINVALID, "format must be json or csv")
	}
	d, err := s.rights.CustomerData(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	var buf bytes.Buffer
	if format == "csv" {
		if err := d.WriteCSV(&buf); err != nil {
			return err
		}
		c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="customer-`+d.Customer.ID+`.csv"`)
		return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	}
	if err := d.WriteJSON(&buf); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf.Bytes())
}

// handleCustomerErase erases a customer by crypto-shredding (Art. 47).
func (s *API) handleCustomerErase(c echo.Context) error {
	var req reasonRequest
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	erased, err := s.rights.EraseCustomer(c.Request().Context(), c.Param("id"), kit.Member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "status": "erased", "changed": erased})
}

// handleCustomerEraseRefuse records a refusal to erase, with its reason
// (Art. 50).
func (s *API) handleCustomerEraseRefuse(c echo.Context) error {
	var req reasonRequest
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	d, err := s.rights.RefuseErasure(c.Request().Context(), c.Param("id"), kit.Member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}
