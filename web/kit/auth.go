package kit

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/staff"
)

const memberKey = "member"

// Auth authenticates staff, gates what they do and records what personal
// data they read.
type Auth struct {
	staff      *staff.Store
	governance *governance.Service
	db         *database.DB
}

// NewAuth authenticates against st, gates through gov and records reads in
// db's audit trail.
func NewAuth(st *staff.Store, gov *governance.Service, db *database.DB) *Auth {
	return &Auth{staff: st, governance: gov, db: db}
}

// RequireToken authenticates a Bearer API token and puts the staff member
// in the context.
func (s *Auth) RequireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="handover"`)
			return handover.Errorf(handover.EUNAUTHORIZED, "Send an API token as 'Authorization: Bearer hov_…' (create one with: handover token create).")
		}
		m, err := s.staff.Authenticate(c.Request().Context(), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		c.Set(memberKey, m)
		return next(c)
	}
}

// Can lets the request through only if the member's role holds p and,
// when p or the route touches personal data (see personalDataRoutes), the
// member has accepted the current confidentiality agreement and passed
// their role's training.
func (s *Auth) Can(p staff.Permission) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			m := Member(c)
			if m == nil || !m.Role.Can(p) {
				return handover.Errorf(handover.EFORBIDDEN, "Your role may not do this (needs %s).", p)
			}
			if gated(c, p) {
				if err := s.governance.CheckAccess(c.Request().Context(), m); err != nil {
					return err
				}
			}
			return next(c)
		}
	}
}

// Member is the request's signed-in staff member, nil before sign-in.
func Member(c echo.Context) *staff.Member {
	m, _ := c.Get(memberKey).(*staff.Member)
	return m
}

// SetMember puts the request's signed-in staff member in the context.
func SetMember(c echo.Context, m *staff.Member) { c.Set(memberKey, m) }

// RecordAccess writes an audit entry for a read of personal data.
func (s *Auth) RecordAccess(c echo.Context, action, objectType, objectID, detail string) error {
	ctx := c.Request().Context()
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: Member(c).Actor(), Action: action, ObjectType: objectType, ObjectID: objectID, Detail: detail})
	})
}
