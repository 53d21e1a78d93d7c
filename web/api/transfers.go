package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerTransferRoutes(g *echo.Group) {
	g.POST("/transfers", s.handleTransferCreate, s.auth.Can(staff.WriteTransfers))
	g.GET("/transfers/:id", s.handleTransferView, s.auth.Can(staff.ReadTransfers))
}

type transferJSON struct {
	ID             string    `json:"id"`
	SellerName     string    `json:"seller_name"`
	BuyerName      string    `json:"buyer_name"`
	BuyerContact   string    `json:"buyer_contact"`
	EffectiveDate  string    `json:"effective_date"`
	Purposes       []string  `json:"purposes"`
	DataCategories []string  `json:"data_categories"`
	RetentionDays  int       `json:"retention_days"`
	CreatedBy      string    `json:"created_by,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func toTransferJSON(t *transfers.Transfer) transferJSON {
	return transferJSON{ID: t.ID, SellerName: t.SellerName, BuyerName: t.BuyerName, BuyerContact: t.BuyerContact,
		EffectiveDate: t.EffectiveDate, Purposes: t.Purposes, DataCategories: t.DataCategories,
		RetentionDays: t.RetentionDays, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt}
}

// handleTransferCreate records a transfer of the customer list.
func (s *API) handleTransferCreate(c echo.Context) error {
	var req transferJSON
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	t := &transfers.Transfer{SellerName: req.SellerName, BuyerName: req.BuyerName, BuyerContact: req.BuyerContact,
		EffectiveDate: req.EffectiveDate, Purposes: req.Purposes, DataCategories: req.DataCategories, RetentionDays: req.RetentionDays}
	if err := s.transfers.CreateTransfer(c.Request().Context(), t, kit.Member(c).Actor()); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/transfers/"+t.ID)
	return c.JSON(http.StatusCreated, toTransferJSON(t))
}

// handleTransferView shows one transfer.
func (s *API) handleTransferView(c echo.Context) error {
	t, err := s.transfers.FindTransferByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTransferJSON(t))
}
