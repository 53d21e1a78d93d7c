package dashboard

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

// registerTokenPages: a member's own API tokens under My account; any
// member's on the Staff page for admins. Each can be revoked on its own.
func (s *Dashboard) registerTokenPages() {
	s.pageRoute(http.MethodGet, "/account/tokens", s.handleAccountTokens, "")
	s.pageRoute(http.MethodPost, "/account/tokens/:token/revoke", s.handleTokenRevokePage, "")
	s.pageRoute(http.MethodGet, "/staff/:id/tokens", s.handleStaffTokens, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/tokens/:token/revoke", s.handleTokenRevokePage, staff.ManageStaff)
}

type tokensView struct {
	// Owner is the member whose tokens an admin is looking at; nil on the
	// member's own page.
	Owner  *staff.Member
	Tokens []staff.APIToken
	Now    time.Time
	// Base is where the revoke forms post: Base/{token id}/revoke.
	Base string
}

func (s *Dashboard) tokensPage(c echo.Context, v tokensView, ownerID, nav string) error {
	var err error
	if v.Tokens, err = s.staff.FindAPITokens(c.Request().Context(), ownerID); err != nil {
		return err
	}
	v.Now = s.db.Now()
	return s.render(c, http.StatusOK, "tokens", &page{Title: "account.tokens", Nav: nav, Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleAccountTokens(c echo.Context) error {
	return s.tokensPage(c, tokensView{Base: "/account/tokens"}, member(c).ID, "account")
}

func (s *Dashboard) handleStaffTokens(c echo.Context) error {
	owner, err := s.staff.FindMemberByID(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.tokensPage(c, tokensView{Owner: owner, Base: "/staff/" + owner.ID + "/tokens"}, owner.ID, "staff")
}

// handleTokenRevokePage ends one token for good and goes back to the list
// it was revoked from.
func (s *Dashboard) handleTokenRevokePage(c echo.Context) error {
	if err := s.staff.RevokeAPIToken(c.Request().Context(), c.Param("token"), member(c)); err != nil {
		return err
	}
	back := "/account/tokens"
	if id := c.Param("id"); id != "" {
		back = "/staff/" + id + "/tokens"
	}
	return c.Redirect(http.StatusSeeOther, back+"?done=token_revoked")
}
