package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/links"
)

// wechatCookie remembers, per browser, the link whose WeChat OAuth round
// trip was made, so a customer is sent through it once.
const wechatCookie = "hov_wx"

// wechatStep tells what a GET of the notice inside WeChat's browser (with
// WeChat configured) is: "out" when it should go through OAuth first,
// "back" when it returns from it with a code, "" otherwise.
func (s *Server) wechatStep(c echo.Context) string {
	if s.wechat == nil || c.Request().Method != http.MethodGet || c.Path() != "/l/:token" ||
		!strings.Contains(c.Request().UserAgent(), "MicroMessenger") {
		return ""
	}
	if c.QueryParam("code") != "" && c.QueryParam("state") != "" {
		return "back"
	}
	if ck, err := c.Cookie(wechatCookie); err == nil && ck.Value != "" {
		return ""
	}
	return "out"
}

// wechatOAuth sends the customer once through WeChat's snsapi_base OAuth
// (no consent screen) and, on the way back, binds the openid WeChat names
// to the link's customer. It reports whether it answered the request. A
// failure is logged and the page shown anyway: the binding is a
// convenience, never a gate.
func (s *Server) wechatOAuth(c echo.Context, l *links.Link, step string) (bool, error) {
	c.SetCookie(&http.Cookie{Name: wechatCookie, Value: l.ID, Path: "/l/", HttpOnly: true, Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode})
	switch step {
	case "out":
		u, err := s.wechat.OAuthRedirectURL(s.cfg.PublicURL+"/l/"+c.Param("token"), l.ID)
		if err != nil {
			s.log.Warn("wechat oauth redirect", "link_id", l.ID, "err", err)
			return false, nil
		}
		return true, c.Redirect(http.StatusFound, u)
	case "back":
		if c.QueryParam("state") != l.ID {
			return false, nil
		}
		ctx := c.Request().Context()
		openID, err := s.wechat.OpenIDFromCode(ctx, c.QueryParam("code"))
		if err == nil {
			_, err = s.customers.BindWeChatOpenID(ctx, l.CustomerID, openID, "customer:"+l.CustomerID)
		}
		if err != nil {
			s.log.Warn("wechat oauth bind", "link_id", l.ID, "customer_id", l.CustomerID, "err", err)
		}
	}
	return false, nil
}
