package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerCustomerRoutes(g *echo.Group) {
	g.GET("/customers", s.handleCustomerList, s.auth.Can(staff.ReadCustomers))
	g.GET("/customers/:id", s.handleCustomerView, s.auth.Can(staff.ReadCustomers))
	// Importing is how customers are created and updated: the same role
	// changes a customer's plain fields by hand.
	g.PATCH("/customers/:id", s.handleCustomerUpdate, s.auth.Can(staff.ImportCustomers))
	g.POST("/customers/:id/reveal", s.handleCustomerReveal, s.auth.Can(staff.RevealCustomers))
}

type customerJSON struct {
	ID           string    `json:"id"`
	ExternalRef  string    `json:"external_ref"`
	Name         string    `json:"name"`
	Phone        string    `json:"phone"`
	Email        string    `json:"email"`
	WeChatOpenID string    `json:"wechat_openid"`
	Company      string    `json:"company"`
	Address      string    `json:"address"`
	Region       string    `json:"region"`
	Tags         []string  `json:"tags"`
	Locale       string    `json:"locale"`
	TimeZone     string    `json:"time_zone"`
	Status       string    `json:"status"`
	ImportID     string    `json:"import_id,omitempty"`
	Masked       bool      `json:"masked"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

func toCustomerJSON(cu customers.Customer, masked bool) customerJSON {
	if masked {
		cu = cu.Masked()
	}
	tags := cu.Tags
	if tags == nil {
		tags = []string{}
	}
	return customerJSON{ID: cu.ID, ExternalRef: cu.ExternalRef, Name: cu.Name, Phone: cu.Phone, Email: cu.Email,
		WeChatOpenID: cu.WeChatOpenID, Company: cu.Company, Address: cu.Address, Region: cu.Region, Tags: tags,
		Locale: cu.Locale, TimeZone: cu.TimeZone, Status: cu.Status.String(), ImportID: cu.ImportID, Masked: masked, CreatedAt: cu.CreatedAt, UpdatedAt: cu.UpdatedAt}
}

// handleCustomerList lists customers, masked, a page at a time.
func (s *API) handleCustomerList(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	f := customers.Filter{Cursor: cursor, Limit: limit, Region: c.QueryParam("region"), Tag: c.QueryParam("tag"),
		Status: customers.Status(c.QueryParam("status")), Phone: c.QueryParam("phone"), Email: c.QueryParam("email"), ImportID: c.QueryParam("import_id")}
	list, next, err := s.customers.FindCustomers(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := make([]customerJSON, len(list))
	for i, cu := range list {
		out[i] = toCustomerJSON(*cu, true)
	}
	if err := s.auth.RecordAccess(c, "customer.list", "customer", "", fmt.Sprintf("count=%d", len(out))); err != nil {
		return err
	}
	return listJSON(c, out, next)
}

// handleCustomerView shows one customer, masked.
func (s *API) handleCustomerView(c echo.Context) error {
	cu, err := s.customers.FindCustomerByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	if err := s.auth.RecordAccess(c, "customer.view", "customer", cu.ID, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCustomerJSON(*cu, true))
}

// handleCustomerUpdate changes a customer's plain fields (the time zone)
// and shows the customer, masked.
func (s *API) handleCustomerUpdate(c echo.Context) error {
	var req struct {
		TimeZone *string `json:"time_zone"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cu, err := s.customers.UpdateCustomer(c.Request().Context(), c.Param("id"), customers.CustomerUpdate{TimeZone: req.TimeZone}, kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toCustomerJSON(*cu, true))
}

// handleCustomerReveal shows one customer unmasked, for a stated reason,
// and audits it.
func (s *API) handleCustomerReveal(c echo.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	cu, err := s.customers.RevealCustomer(c.Request().Context(), c.Param("id"), kit.Member(c).Actor(), req.Reason)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, toCustomerJSON(*cu, false))
}
