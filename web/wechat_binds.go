package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

// WeChat binds waiting for review: an openid offered, through WeChat's
// OAuth on a customer's link, for a customer who already has another.
// Reviewed by whoever reviews detail corrections.

func (s *Server) registerWeChatBindRoutes(g *echo.Group) {
	g.GET("/wechat-binds", s.handleWeChatBindList, s.can(staff.ReviewCorrections))
	g.POST("/wechat-binds/:id/approve", s.handleWeChatBindDecide(true), s.can(staff.ReviewCorrections))
	g.POST("/wechat-binds/:id/reject", s.handleWeChatBindDecide(false), s.can(staff.ReviewCorrections))
}

func (s *Server) registerWeChatBindPages() {
	s.pageRoute(http.MethodGet, "/wechat-binds", s.handleWeChatBindsPage, staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/wechat-binds/:id/approve", s.handleWeChatBindDecidePage(true), staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/wechat-binds/:id/reject", s.handleWeChatBindDecidePage(false), staff.ReviewCorrections)
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
	return wechatBindJSON{ID: r.ID, CustomerID: r.CustomerID, LinkID: r.LinkID, Current: r.Current, Proposed: r.Proposed, Status: r.Status,
		DecidedBy: r.DecidedBy, Reason: r.Reason, CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt}
}

// handleWeChatBindList lists the requests in ?status= (default pending).
func (s *Server) handleWeChatBindList(c echo.Context) error {
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	list, next, err := s.customers.FindWeChatBindRequests(c.Request().Context(), c.QueryParam("status"), cursor, limit)
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
func (s *Server) handleWeChatBindDecide(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			Reason string `json:"reason"`
		}
		if err := bindJSON(c, &req); err != nil {
			return err
		}
		r, err := s.customers.DecideWeChatBind(c.Request().Context(), c.Param("id"), approve, member(c).Actor(), req.Reason)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, toWeChatBindJSON(r))
	}
}

// wechatBindsView is the review page.
type wechatBindsView struct {
	Status   string
	Requests []customers.WeChatBindRequest
}

// handleWeChatBindsPage shows the requests in ?status=, masked.
func (s *Server) handleWeChatBindsPage(c echo.Context) error {
	v := wechatBindsView{Status: c.QueryParam("status")}
	if v.Status == "" {
		v.Status = customers.BindPending
	}
	list, _, err := s.customers.FindWeChatBindRequests(c.Request().Context(), v.Status, "", 200)
	if err != nil {
		return err
	}
	v.Requests = list
	return s.render(c, http.StatusOK, "wechat_binds", &page{Title: "nav.wechat_binds", Nav: "wechat_binds", Flash: c.QueryParam("done"), Data: v})
}

func (s *Server) handleWeChatBindDecidePage(approve bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := s.customers.DecideWeChatBind(c.Request().Context(), c.Param("id"), approve, member(c).Actor(), c.FormValue("reason")); err != nil {
			return err
		}
		done := "wechat_bind_rejected"
		if approve {
			done = "wechat_bind_approved"
		}
		return c.Redirect(http.StatusSeeOther, "/wechat-binds?done="+done)
	}
}
