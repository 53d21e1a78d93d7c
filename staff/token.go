package staff

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// tokenPrefix marks Handover API tokens so secret scanners can find leaks.
const tokenPrefix = "hov_"

// API token lifetimes. A token made before tokens had an expiry counts as
// expiring DefaultTokenTTL after it was made.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 366 * 24 * time.Hour
)

// CreateAPIToken makes an API token of DefaultTokenTTL for the member with
// the given email and returns it.
func (s *Store) CreateAPIToken(ctx context.Context, email, name, actor string) (string, error) {
	return s.CreateAPITokenFor(ctx, email, name, actor, DefaultTokenTTL)
}

// CreateAPITokenFor makes an API token that works for ttl (at most
// MaxTokenTTL) and returns it. Only its SHA-256 is stored: the token is
// shown once.
func (s *Store) CreateAPITokenFor(ctx context.Context, email, name, actor string, ttl time.Duration) (string, error) {
	if ttl <= 0 || ttl > MaxTokenTTL {
		return "", handover.Errorf(handover.EINVALID, "a token lives between 1 and 366 days")
	}
	m, err := s.FindMemberByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	if m.DisabledAt != nil {
		return "", handover.Errorf(handover.EINVALID, "this staff member is disabled")
	}
	raw := make([]byte, 24)
	rand.Read(raw)
	token := tokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	id := ulid.Make().String()
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, staff_id, name, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, m.ID, name, hashToken(token), tx.Now, tx.Now.Add(ttl)); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "token.create", ObjectType: "api_token", ObjectID: id, Detail: "staff=" + m.ID})
	})
	if err != nil {
		return "", err
	}
	return token, nil
}

// Authenticate returns the enabled member an API token belongs to, or an
// unauthorized error that does not say why (unknown, revoked, disabled,
// expired).
func (s *Store) Authenticate(ctx context.Context, token string) (*Member, error) {
	unauthorized := handover.Errorf(handover.EUNAUTHORIZED, "The API token is missing, unknown, expired or revoked.")
	if !strings.HasPrefix(token, tokenPrefix) || len(token) > 100 {
		return nil, unauthorized
	}
	var staffID, tokenID string
	var lastUsed sql.NullTime
	now := s.db.Now()
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.staff_id, t.last_used_at FROM api_tokens t JOIN staff s ON s.id = t.staff_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at > $2 OR t.expires_at IS NULL AND t.created_at > $3)
		AND s.disabled_at IS NULL AND (s.expires_at IS NULL OR s.expires_at > $2)`,
		hashToken(token), now, now.Add(-DefaultTokenTTL)).Scan(&tokenID, &staffID, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	// Record use at most once a minute, so reads stay reads.
	if !lastUsed.Valid || now.Sub(lastUsed.Time) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $1 WHERE id = $2`, now, tokenID); err != nil {
			return nil, fmt.Errorf("authenticate: %w", err)
		}
	}
	return s.FindMemberByID(ctx, staffID)
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
