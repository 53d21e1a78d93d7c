package dashboard

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

func (s *Dashboard) registerAccountPages() {
	s.pageRoute(http.MethodGet, "/account", s.handleAccountPage, "")
	s.pageRoute(http.MethodPost, "/account/preferences", s.handleAccountPreferences, "")
	s.pageRoute(http.MethodPost, "/account/totp", s.handleTOTPBegin, "")
	s.pageRoute(http.MethodPost, "/account/totp/confirm", s.handleTOTPConfirm, "")
}

type accountView struct {
	TOTPOn    bool
	Enrolment *staff.TOTPEnrolment
	Locales   []string
	Error     string
}

func (s *Dashboard) accountPage(c echo.Context, status int, v accountView) error {
	on, err := s.staff.TOTPEnabled(c.Request().Context(), member(c).ID)
	if err != nil {
		return err
	}
	v.TOTPOn, v.Locales = on, staff.Locales
	return s.render(c, status, "account", &page{Title: "account.title", Nav: "account", Flash: c.QueryParam("done"), Data: v})
}

func (s *Dashboard) handleAccountPage(c echo.Context) error {
	return s.accountPage(c, http.StatusOK, accountView{})
}

// handleAccountPreferences sets the member's language and time zone.
func (s *Dashboard) handleAccountPreferences(c echo.Context) error {
	if err := s.staff.UpdatePreferences(c.Request().Context(), member(c).ID, c.FormValue("locale"), c.FormValue("time_zone")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=saved")
}

// handleTOTPBegin shows a new secret as text and its otpauth URL.
func (s *Dashboard) handleTOTPBegin(c echo.Context) error {
	e, err := s.staff.BeginTOTP(c.Request().Context(), member(c).ID)
	if err != nil {
		return err
	}
	return s.accountPage(c, http.StatusOK, accountView{Enrolment: e})
}

// handleTOTPConfirm turns TOTP on once the member proves a code.
func (s *Dashboard) handleTOTPConfirm(c echo.Context) error {
	if err := s.staff.ConfirmTOTP(c.Request().Context(), member(c).ID, c.FormValue("code")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account?done=totp_on")
}
