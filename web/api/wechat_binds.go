package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// WeChat binds waiting for review: an openid offered, through WeChat's
// OAuth on a customer's link, for a customer who already has another.
// Reviewed by whoever reviews detail corrections.

func (s *API) registerWeChatBindRoutes(g *echo.Group) {
	g.GET("/wechat-binds", s.handleWeChatBindList, s.auth.Can(staff.ReviewCorrections))
	g.POST("/wechat-binds/:id/approve", s.handleWeChatBindDecide(true), s.auth.Can(staff.ReviewCorrections))
	g.POST("/wechat-binds/:id/reject", s.handleWeChatBindDecide(false), s.auth.Can(staff.ReviewCorrections))
}

type wechatBindJSON struct {
	ID         string     `json:"id"`
	CustomerID string     `json:"customer_id"`
	LinkID     string     `json:"link_id"`
	Current    string     `json:"current_masked"`
	Proposed   string     `json:"proposed_masked"`
	Status     string     `json:"status"`
	DecidedBy  string     `json:"decided_by,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	DecidedAt  *time.Time `json:"decided_at,omitempty"`
}

func toWeChatBindJSON(r *customers.WeChatBindRequest) wechatBindJSON {
	return wechatBindJSON{ID: r.ID, CustomerID: r.CustomerID, LinkID: r.LinkID, Current: r.Current, Proposed: r.Proposed, Status: r.Status.String(),
		DecidedBy: r.DecidedBy, Reason: r.Reason, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt}
}

// handleWeChatBindList lists the requests in ?status= (default pending).
func (s *API) handleWeChatBindList(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	list, next, err := s.customers.FindWeChatBindRequests(c.Request().Context(), customers.BindStatus(c.QueryParam("status")), cursor, limit)
	if err != nil {
		return err
	}
	out := make([]wechatBindJSON, len(list))
	for i := range list {
		out[i] = toWeChatBindJSON(&list[i])
	}
	return listJSON(c, out, next)
}

// handleWeChatBindDecide approves or rejects a pending request.
func (s *API) handleWeChatBindDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			Reason string `json:"reason"`
		}
		if err := kit.BindJSON(c, &req); err != nil {
			return err
		}
		r, err := s.customers.DecideWeChatBind(c.Request().Context(), c.Param("id"), approve, kit.Member(c).Actor(), req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toWeChatBindJSON(r))
	}
}
