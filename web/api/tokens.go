package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

// registerTokenRoutes: a member lists and revokes their own API tokens;
// one who manages staff lists and revokes anyone's and unlocks accounts.
func (s *API) registerTokenRoutes(g *echo.Group) {
	g.GET("/tokens", s.handleTokenList)
	g.DELETE("/tokens/:id", s.handleTokenRevoke)
	g.POST("/staff/:id/unlock", s.handleStaffUnlock, s.auth.Can(staff.ManageStaff))
}

// handleTokenList lists the caller's tokens, or with ?staff_id= another
// member's (staff.manage only).
func (s *API) handleTokenList(c echo.Context) error {
	id := kit.Member(c).ID
	if other := c.QueryParam("staff_id"); other != "" && other != id {
		if !kit.Member(c).Role.Can(staff.ManageStaff) {
			return handover.Errorf(handover.EFORBIDDEN, "Your role may not do this (needs %s).", staff.ManageStaff)
		}
		id = other
	}
	cursor, limit, err := pageQuery(c)
	if err != nil {
		return err
	}
	list, next, err := s.staff.FindAPITokenPage(c.Request().Context(), id, cursor, limit)
	if err != nil {
		return err
	}
	return listJSON(c, list, next)
}

// handleTokenRevoke ends one token for good.
func (s *API) handleTokenRevoke(c echo.Context) error {
	if err := s.staff.RevokeAPIToken(c.Request().Context(), c.Param("id"), kit.Member(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleStaffUnlock forgets a member's failed sign-ins.
func (s *API) handleStaffUnlock(c echo.Context) error {
	if err := s.staff.UnlockMember(c.Request().Context(), c.Param("id"), kit.Member(c).Actor()); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
