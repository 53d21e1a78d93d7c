package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/web/kit"
)

func (s *API) registerLinkRoutes(g *echo.Group) {
	g.POST("/customers/:id/links", s.handleLinkIssue, s.auth.Can(staff.WriteLinks))
	g.POST("/links/:id/revoke", s.handleLinkRevoke, s.auth.Can(staff.WriteLinks))
}

type linkJSON struct {
	ID         string     `json:"id"`
	URL        string     `json:"url,omitempty"` // only when issued: the token is not kept
	CustomerID string     `json:"customer_id"`
	TransferID string     `json:"transfer_id"`
	Purposes   []string   `json:"purposes"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	OpenCount  int64      `json:"open_count"`
}

func toLinkJSON(l *links.Link) linkJSON {
	return linkJSON{ID: l.ID, CustomerID: l.CustomerID, TransferID: l.TransferID, Purposes: l.Purposes,
		ExpiresAt: l.ExpiresAt, RevokedAt: l.RevokedAt, OpenCount: l.OpenCount}
}

// handleLinkIssue makes a personal link for a customer by hand; the URL is
// shown once.
func (s *API) handleLinkIssue(c echo.Context) error {
	var req struct {
		TransferID string   `json:"transfer_id"`
		Purposes   []string `json:"purposes"`
		TTLDays    int      `json:"ttl_days"`
	}
	if err := kit.BindJSON(c, &req); err != nil {
		return err
	}
	if req.TTLDays < 0 || req.TTLDays > 366 {
		return handover.Errorf(handover.EINVALID, "ttl_days must be from 1 to 366 (0: the default).")
	}
	token, l, err := s.links.Issue(c.Request().Context(), links.IssueRequest{CustomerID: c.Param("id"), TransferID: req.TransferID,
		Purposes: req.Purposes, TTL: time.Duration(req.TTLDays) * 24 * time.Hour, Actor: kit.Member(c).Actor()})
	if err != nil {
		return err
	}
	out := toLinkJSON(l)
	out.URL = s.cfg.PublicURL + "/l/" + token
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusCreated, out)
}

// handleLinkRevoke withdraws a link at once.
func (s *API) handleLinkRevoke(c echo.Context) error {
	l, err := s.links.Revoke(c.Request().Context(), c.Param("id"), kit.Member(c).Actor())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toLinkJSON(l))
}
