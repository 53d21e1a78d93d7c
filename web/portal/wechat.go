package portal

import (
	"crypto/rand"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/web/kit"
)

// wechatCookie holds, per browser, the random state of the WeChat OAuth
// round trip under way, then "done" once it came back: a customer is sent
// through OAuth once, and only a return carrying the state this browser
// was given may bind an openid.
const wechatCookie = "hov_wx"

// wechatDone is wechatCookie's value once the round trip is over.
const wechatDone = "done"

// wechatStep tells what a GET of the notice inside WeChat's browser (with
// WeChat configured) is: "out" when it should go through OAuth first,
// "back" when it returns from it with a code, "" otherwise.
func (s *Portal) wechatStep(c echo.Context) string {
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
// (no consent screen) with a random state kept in a cookie and, on the way
// back, when the state matches this browser's, offers the openid WeChat
// names for the link's customer (customers.ProposeWeChatBind: bound only
// when they have none, else queued for staff). It reports whether it
// answered the request. A failure is logged and the page shown anyway:
// the binding is a convenience, never a gate.
func (s *Portal) wechatOAuth(c echo.Context, l *links.Link, step string) (bool, error) {
	switch step {
	case "out":
		state := rand.Text() // 26 base32 characters: letters and digits, as WeChat needs
		u, err := s.wechat.OAuthRedirectURL(s.cfg.PublicURL+"/l/"+c.Param("token"), state)
		if err != nil {
			kit.RequestLog(s.log, c).Warn("wechat oauth redirect", "link_id", l.ID, "err", err)
			s.setWeChatCookie(c, wechatDone)
			return false, nil
		}
		s.setWeChatCookie(c, state)
		return true, c.Redirect(http.StatusFound, u)
	case "back":
		ck, err := c.Cookie(wechatCookie)
		s.setWeChatCookie(c, wechatDone)
		if err != nil || ck.Value == wechatDone || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.QueryParam("state"))) != 1 {
			kit.RequestLog(s.log, c).Warn("wechat oauth state does not match this browser's; nothing bound", "link_id", l.ID)
			return false, nil
		}
		ctx := c.Request().Context()
		openID, err := s.wechat.OpenIDFromCode(ctx, c.QueryParam("code"))
		outcome := ""
		if err == nil {
			outcome, err = s.customers.ProposeWeChatBind(ctx, l.CustomerID, openID, l.ID)
		}
		if err != nil {
			kit.RequestLog(s.log, c).Warn("wechat oauth bind", "link_id", l.ID, "customer_id", l.CustomerID, "err", err)
		} else {
			kit.RequestLog(s.log, c).Info("wechat oauth", "link_id", l.ID, "customer_id", l.CustomerID, "outcome", outcome)
		}
	}
	return false, nil
}

func (s *Portal) setWeChatCookie(c echo.Context, value string) {
	c.SetCookie(&http.Cookie{Name: wechatCookie, Value: value, Path: "/l/", HttpOnly: true, Secure: s.cookies.Secure, SameSite: http.SameSiteLaxMode})
}
