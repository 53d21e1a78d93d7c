package dashboard

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

func (s *Dashboard) registerStaffPages() {
	s.pageRoute(http.MethodGet, "/staff", s.handleStaffPage, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff", s.handleStaffAdd, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/role", s.handleStaffRole, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/disable", s.handleStaffDisable, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/enable", s.handleStaffEnable, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/totp/reset", s.handleStaffTOTPReset, staff.ManageStaff)
	s.pageRoute(http.MethodPost, "/staff/:id/unlock", s.handleStaffUnlockPage, staff.ManageStaff)
}

type staffView struct {
	Members []*staff.Member
	Roles   []staff.Role
	// Added is the member just created and their temporary password,
	// shown once.
	Added        *staff.Member
	TempPassword string
}

func (s *Dashboard) staffPage(c echo.Context, v staffView) error {
	list, err := s.staff.FindMembers(c.Request().Context())
	if err != nil {
		return err
	}
	v.Members, v.Roles = list, []staff.Role{staff.Admin, staff.Agent, staff.Marketer, staff.Auditor}
	return s.render(c, http.StatusOK, "staff", &page{Title: "nav.staff", Nav: "staff", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleStaffPage(c echo.Context) error {
	return s.staffPage(c, staffView{})
}

// handleStaffAdd creates a member with a generated temporary password,
// shown once on the answer page.
func (s *Dashboard) handleStaffAdd(c echo.Context) error {
	role, err := staff.ParseRole(c.FormValue("role"))
	if err != nil {
		return err
	}
	m := &staff.Member{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")), Role: role}
	password := staff.GeneratePassword()
	if err := s.staff.CreateMember(c.Request().Context(), m, password, member(c).Actor()); err != nil {
		return err
	}
	return s.staffPage(c, staffView{Added: m, TempPassword: password})
}

func (s *Dashboard) handleStaffRole(c echo.Context) error {
	if err := s.staff.ChangeRole(c.Request().Context(), c.Param("id"), staff.Role(c.FormValue("role")), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff?done=saved")
}

func (s *Dashboard) handleStaffDisable(c echo.Context) error {
	if err := s.staff.DisableMember(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff?done=disabled")
}

func (s *Dashboard) handleStaffEnable(c echo.Context) error {
	if err := s.staff.EnableMember(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff?done=enabled")
}

// handleStaffTOTPReset turns off two-step sign-in for a member who lost
// their device.
func (s *Dashboard) handleStaffTOTPReset(c echo.Context) error {
	if err := s.staff.ResetTOTP(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff?done=saved")
}

// handleStaffUnlockPage forgets a member's failed sign-ins, so they can
// sign in again at once.
func (s *Dashboard) handleStaffUnlockPage(c echo.Context) error {
	if err := s.staff.UnlockMember(c.Request().Context(), c.Param("id"), member(c).Actor()); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff?done=unlocked")
}
