package web

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

func (s *Server) registerRightsRoutes(g *echo.Group) {
	g.GET("/customers/:id/data", s.handleCustomerData, s.can(staff.RevealCustomers))
	g.POST("/customers/:id/erase", s.handleCustomerErase, s.can(staff.EraseCustomers))
	g.POST("/customers/:id/erase/refuse", s.handleCustomerEraseRefuse, s.can(staff.EraseCustomers))
}

// handleCustomerData gives everything held about a customer (PIPL Art. 45),
// as JSON or, with ?format=csv, as a CSV file; the read is audited.
func (s *Server) handleCustomerData(c echo.Context) error {
	format := c.QueryParam("format")
	if format != "" && format != "json" && format != "csv" {
		return handover.Errorf(handover.EINVALID, "format must be json or csv")
	}
	d, err := s.rights.CustomerData(c.Request().Context(), c.Param("id"), member(c).Actor())
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
func (s *Server) handleCustomerErase(c echo.Context) error {
	var req reasonRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	erased, err := s.rights.EraseCustomer(c.Request().Context(), c.Param("id"), member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "status": "erased", "changed": erased})
}

// handleCustomerEraseRefuse records a refusal to erase, with its reason
// (Art. 50).
func (s *Server) handleCustomerEraseRefuse(c echo.Context) error {
	var req reasonRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	d, err := s.rights.RefuseErasure(c.Request().Context(), c.Param("id"), member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}
