package portal

import (
	"bytes"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/rights"
)

// dataCookie holds a confirmed data access grant; its path binds it to
// the link, the grant itself to the link's customer.
const dataCookie = "hov_data"

// myDataView is the my data page: how to get a code, the code step, or
// everything held.
type myDataView struct {
	Phone, Email string // masked contacts on file a code can go to
	// WeChat says a code can go to the customer's WeChat (a
	// customer-service message: inside WeChat's 48-hour window).
	WeChat    bool
	Challenge string
	Via       string
	To        string
	Data      *rights.CustomerData
	// Next is "details" when the code step was asked for from "Check
	// your details": the customer goes back there, now unmasked.
	Next string
}

// myDataNext keeps the one page a code step may return to.
func myDataNext(c echo.Context) string {
	if c.FormValue("next") == "details" {
		return "details"
	}
	return ""
}

// handlePortalMyData shows the customer's data once a code was confirmed
// on this link; before, how to get one (?c= is the code step).
func (s *Portal) handlePortalMyData(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	v.MyData.Next = myDataNext(c)
	if ck, err := c.Cookie(dataCookie); err == nil {
		err := s.rights.CheckDataAccess(ctx, l.CustomerID, ck.Value)
		if err == nil {
			if v.MyData.Data, err = s.rights.CustomerData(ctx, l.CustomerID, "customer:"+l.CustomerID); err != nil {
				return err
			}
			v.Zone = s.customerZone(v.MyData.Data.Customer.TimeZone)
			return s.renderPortal(c, http.StatusOK, "mydata", v)
		} else if handover.ErrorCode(err) != handover.EUNAUTHORIZED {
			return err
		}
	}
	return s.renderMyDataStart(c, v, http.StatusOK, c.QueryParam("c"), c.QueryParam("via"))
}

func (s *Portal) renderMyDataStart(c echo.Context, v *portalView, status int, challenge, via string) error {
	cu, err := s.customers.FindCustomerByID(c.Request().Context(), portalLinkOf(c).CustomerID)
	if err != nil {
		return err
	}
	m := &v.MyData
	if cu.Phone != "" {
		m.Phone = pii.MaskPhone(cu.Phone)
	}
	if cu.Email != "" {
		m.Email = pii.MaskEmail(cu.Email)
	}
	m.WeChat = cu.WeChatOpenID != ""
	if challenge != "" && (via == "phone" || via == "email" || via == "wechat") {
		m.Challenge, m.Via, m.To = challenge, via, m.Phone
		switch via {
		case "email":
			m.To = m.Email
		case "wechat":
			m.To = v.T["mydata_wechat_to"]
		}
		return s.renderPortal(c, status, "mydata_code", v)
	}
	return s.renderPortal(c, status, "mydata_start", v)
}

// handlePortalMyDataCode sends a code to the phone or email on file.
func (s *Portal) handlePortalMyDataCode(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	v.MyData.Next = myDataNext(c)
	via := c.FormValue("via")
	ch, err := s.rights.StartDataAccess(ctx, l.CustomerID, via, s.sendCode)
	switch handover.ErrorCode(err) {
	case "":
		next := ""
		if myDataNext(c) != "" {
			next = "&next=details"
		}
		return c.Redirect(http.StatusSeeOther, v.Base+"/mydata?c="+url.QueryEscape(ch.ID)+"&via="+url.QueryEscape(via)+next)
	case handover.EINVALID:
		v.Problem = v.T["mydata_pick"]
		return s.renderMyDataStart(c, v, http.StatusBadRequest, "", "")
	case handover.EUNAVAILABLE:
		if via != "wechat" {
			return err
		}
		// WeChat carries it only inside its 48-hour window.
		v.Problem = v.T["mydata_wechat_failed"]
		return s.renderMyDataStart(c, v, http.StatusServiceUnavailable, "", "")
	case handover.ETOOMANY:
		// Asked again from the code step: stay on it, the last code
		// still works.
		v.Problem = codeThrottleProblem(err, v.T)
		return s.renderMyDataStart(c, v, http.StatusTooManyRequests, c.FormValue("c"), via)
	}
	return err
}

// handlePortalMyDataVerify checks the code and keeps the grant in an
// HttpOnly cookie for this link only.
func (s *Portal) handlePortalMyDataVerify(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	v := s.newPortalView(c)
	v.MyData.Next = myDataNext(c)
	challenge, via := c.FormValue("c"), c.FormValue("via")
	g, err := s.rights.VerifyDataAccess(ctx, l.CustomerID, challenge, c.FormValue("code"))
	if handover.ErrorCode(err) == handover.EINVALID {
		v.Problem = v.T["code_wrong"]
		return s.renderMyDataStart(c, v, http.StatusBadRequest, challenge, via)
	} else if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: dataCookie, Value: g.Token, Path: v.Base + "/", MaxAge: int(rights.DataAccessTTL.Seconds()),
		HttpOnly: true, Secure: s.cookies.Secure, SameSite: http.SameSiteStrictMode})
	if v.MyData.Next == "details" {
		return c.Redirect(http.StatusSeeOther, v.Base+"/details")
	}
	return c.Redirect(http.StatusSeeOther, v.Base+"/mydata")
}

// handlePortalMyDataDownload sends everything held as a JSON or CSV file.
func (s *Portal) handlePortalMyDataDownload(c echo.Context) error {
	ctx, l := c.Request().Context(), portalLinkOf(c)
	ck, err := c.Cookie(dataCookie)
	if err != nil {
		return c.Redirect(http.StatusSeeOther, "/l/"+c.Param("token")+"/mydata")
	}
	if err := s.rights.CheckDataAccess(ctx, l.CustomerID, ck.Value); handover.ErrorCode(err) == handover.EUNAUTHORIZED {
		return c.Redirect(http.StatusSeeOther, "/l/"+c.Param("token")+"/mydata")
	} else if err != nil {
		return err
	}
	format := c.QueryParam("format")
	if format != "json" && format != "csv" {
		return handover.Errorf(handover.EINVALID, "Download as json or csv.")
	}
	d, err := s.rights.CustomerData(ctx, l.CustomerID, "customer:"+l.CustomerID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	ctype := "application/json"
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
		buf.WriteString("\ufeff") // so that Excel reads UTF-8
		err = d.WriteCSV(&buf)
	} else {
		err = d.WriteJSON(&buf)
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="my-data.`+format+`"`)
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}
