package staff

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Session lifetimes, used when SessionPolicy leaves them zero.
const (
	DefaultSessionIdle   = 30 * time.Minute
	DefaultSessionMaxAge = 12 * time.Hour
	// sessionTokenBytes of randomness: 256 bits, 43 characters of base64url.
	sessionTokenBytes = 32
	// SessionTokenLen is the length of a session cookie's value.
	SessionTokenLen = 43
)

// Session is a signed-in browser. Its token lives only in the cookie.
type Session struct {
	// Token is the cookie value; set only by CreateSession.
	Token     string
	StaffID   string
	CSRFToken string
	CreatedAt time.Time
	LastSeen  time.Time
	ExpiresAt time.Time
}

// SessionPolicy says how long sessions live.
type SessionPolicy struct {
	Idle   time.Duration // ends after this long without a request
	MaxAge time.Duration // ends this long after sign-in, busy or not
}

func (p SessionPolicy) withDefaults() SessionPolicy {
	if p.Idle <= 0 {
		p.Idle = DefaultSessionIdle
	}
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultSessionMaxAge
	}
	return p
}

func randomToken() string {
	b := make([]byte, sessionTokenBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidSessionToken reports whether s has the shape of a session token
// (43 base64url characters), so junk cookies never reach the database.
func ValidSessionToken(s string) bool {
	if len(s) != SessionTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// createSession starts a session for staffID in tx. A fresh token on every
// sign-in means a token planted before sign-in (session fixation) is never
// honoured.
func createSession(ctx context.Context, tx *database.Tx, staffID string, p SessionPolicy) (*Session, error) {
	p = p.withDefaults()
	s := &Session{Token: randomToken(), StaffID: staffID, CSRFToken: randomToken(), CreatedAt: tx.Now, LastSeen: tx.Now,
		ExpiresAt: tx.Now.Add(p.MaxAge)}
	_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, staff_id, csrf_token, created_at, last_seen_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, hashToken(s.Token), staffID, s.CSRFToken, tx.Now, tx.Now, s.ExpiresAt)
	if err != nil {
		return nil, fmt.Errorf("create session: %w", err)
	}
	return s, nil
}

// FindSession returns the live session of a cookie value and its enabled
// member, or an EUNAUTHORIZED error. An expired session is deleted; a live
// one has its last-seen time moved forward (at most once a minute).
func (s *Store) FindSession(ctx context.Context, token string, p SessionPolicy) (*Session, *Member, error) {
	p = p.withDefaults()
	expired := handover.Errorf(handover.EUNAUTHORIZED, "Your session has ended; please sign in again.")
	if !ValidSessionToken(token) {
		return nil, nil, expired
	}
	sess := &Session{}
	var disabled, accountEnds sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT s.staff_id, s.csrf_token, s.created_at, s.last_seen_at, s.expires_at, m.disabled_at, m.expires_at
		FROM sessions s JOIN staff m ON m.id = s.staff_id WHERE s.id_hash = $1`, hashToken(token)).
		Scan(&sess.StaffID, &sess.CSRFToken, &sess.CreatedAt, &sess.LastSeen, &sess.ExpiresAt, &disabled, &accountEnds)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, expired
	}
	if err != nil {
		return nil, nil, fmt.Errorf("find session: %w", err)
	}
	now := s.db.Now()
	// A third-party account's expiry ends its sessions at once, without
	// waiting for the housekeeping task to disable it.
	if disabled.Valid || (accountEnds.Valid && !now.Before(accountEnds.Time)) || now.After(sess.ExpiresAt) || now.Sub(sess.LastSeen) > p.Idle {
		if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashToken(token)); err != nil {
			return nil, nil, fmt.Errorf("end session: %w", err)
		}
		return nil, nil, expired
	}
	if now.Sub(sess.LastSeen) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2`, now, hashToken(token)); err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
		sess.LastSeen = now
	}
	m, err := s.FindMemberByID(ctx, sess.StaffID)
	if err != nil {
		return nil, nil, err
	}
	return sess, m, nil
}

// EndSession signs a session out (idempotent) and audits it.
func (s *Store) EndSession(ctx context.Context, token string) error {
	if !ValidSessionToken(token) {
		return nil
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		var staffID string
		err := tx.QueryRowContext(ctx, `SELECT staff_id FROM sessions WHERE id_hash = $1`, hashToken(token)).Scan(&staffID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashToken(token)); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "staff:" + staffID, Action: "staff.logout", ObjectType: "staff", ObjectID: staffID})
	})
}

// endSessionsOf ends every session of a member, e.g. when disabled.
func endSessionsOf(ctx context.Context, tx *database.Tx, staffID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = $1`, staffID)
	return err
}

// NewToken returns a random token shaped like a session token, for
// tokens the web layer mints itself (the sign-in form's CSRF token).
func NewToken() string { return randomToken() }
