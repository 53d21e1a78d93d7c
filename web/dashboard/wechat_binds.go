package dashboard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/staff"
)

// WeChat binds waiting for review: an openid offered, through WeChat's
// OAuth on a customer's link, for a customer who already has another.
// Reviewed by whoever reviews detail corrections.

func (s *Dashboard) registerWeChatBindPages() {
	s.pageRoute(http.MethodGet, "/wechat-binds", s.handleWeChatBindsPage, staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/wechat-binds/:id/approve", s.handleWeChatBindDecidePage(true), staff.ReviewCorrections)
	s.pageRoute(http.MethodPost, "/wechat-binds/:id/reject", s.handleWeChatBindDecidePage(false), staff.ReviewCorrections)
}

// wechatBindsView is the review page.
type wechatBindsView struct {
	Status   customers.BindStatus
	Requests []customers.WeChatBindRequest
}

// handleWeChatBindsPage shows the requests in ?status=, masked.
func (s *Dashboard) handleWeChatBindsPage(c echo.Context) error {
	v := wechatBindsView{Status: customers.BindStatus(c.QueryParam("status"))}
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

func (s *Dashboard) handleWeChatBindDecidePage(approve bool) echo.HandlerFunc {
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
