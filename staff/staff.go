// Package staff holds the people who work in Handover — admins, agents,
// marketers, auditors — their passwords, API tokens and what each role may
// do.
package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Role is a staff member's role.
type Role string

// The roles.
const (
	Admin    Role = "admin"
	Agent    Role = "agent"
	Marketer Role = "marketer"
	Auditor  Role = "auditor"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case Admin, Agent, Marketer, Auditor:
		return r, nil
	}
	return "", handover.Errorf(handover.EINVALID, "role must be one of admin, agent, marketer, auditor")
}

// Member is a staff account.
type Member struct {
	ID         string
	Email      string
	Name       string
	Role       Role
	Locale     string
	TimeZone   string
	DisabledAt *time.Time
	// ExpiresAt ends a third-party account (the buyer's staff, an agency):
	// after it the account can neither sign in nor use its tokens.
	ExpiresAt *time.Time
	CreatedAt time.Time
}

// Active reports whether the account may act at now: not disabled, not
// expired.
func (m *Member) Active(now time.Time) bool {
	return m.DisabledAt == nil && (m.ExpiresAt == nil || now.Before(*m.ExpiresAt))
}

// Actor is how audit entries name this member.
func (m *Member) Actor() string { return "staff:" + m.ID }

// Store reads and writes staff and their API tokens.
type Store struct {
	db *database.DB
}

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

// CreateMember adds a staff member with the given password (which may be
// empty for token-only accounts) and audits it.
func (s *Store) CreateMember(ctx context.Context, m *Member, password, actor string) error {
	addr, err := mail.ParseAddress(m.Email)
	if err != nil || addr.Address != strings.TrimSpace(m.Email) {
		return handover.Errorf(handover.EINVALID, "email is not a valid address")
	}
	if _, err := ParseRole(string(m.Role)); err != nil {
		return err
	}
	if m.ExpiresAt != nil && !m.ExpiresAt.After(s.db.Now()) {
		return handover.Errorf(handover.EINVALID, "the expiry date must be in the future")
	}
	if password != "" && len(password) < 12 {
		return handover.Errorf(handover.EINVALID, "password must be at least 12 characters")
	}
	hash := ""
	if password != "" {
		hash = HashPassword(password)
	}
	m.ID = ulid.Make().String()
	m.Email = strings.ToLower(addr.Address)
	if m.Locale == "" {
		m.Locale = "zh-CN"
	}
	if m.TimeZone == "" {
		m.TimeZone = "Asia/Shanghai"
	}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		m.CreatedAt = tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff (id, email, name, role, password_hash, locale, time_zone, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, m.ID, m.Email, m.Name, string(m.Role), hash, m.Locale, m.TimeZone, m.ExpiresAt, tx.Now); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.create", ObjectType: "staff", ObjectID: m.ID, Detail: "role=" + string(m.Role)})
	})
	if handover.ErrorCode(err) == handover.ECONFLICT {
		return handover.Errorf(handover.ECONFLICT, "a staff member with this email already exists")
	}
	return err
}

// FindMemberByEmail finds an enabled or disabled member by email.
func (s *Store) FindMemberByEmail(ctx context.Context, email string) (*Member, error) {
	return s.findMember(ctx, `email = $1`, strings.ToLower(strings.TrimSpace(email)))
}

// FindMemberByID finds a member by id.
func (s *Store) FindMemberByID(ctx context.Context, id string) (*Member, error) {
	return s.findMember(ctx, `id = $1`, id)
}

func (s *Store) findMember(ctx context.Context, where string, arg any) (*Member, error) {
	var m Member
	var role string
	var disabled, expires sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT id, email, name, role, locale, time_zone, disabled_at, expires_at, created_at FROM staff WHERE `+where, arg).
		Scan(&m.ID, &m.Email, &m.Name, &role, &m.Locale, &m.TimeZone, &disabled, &expires, &m.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "staff member not found")
	}
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	m.Role = Role(role)
	if disabled.Valid {
		m.DisabledAt = &disabled.Time
	}
	if expires.Valid {
		t := expires.Time.UTC()
		m.ExpiresAt = &t
	}
	return &m, nil
}

// CountMembers counts staff accounts.
func (s *Store) CountMembers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM staff`).Scan(&n)
	return n, err
}
