package staff

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// APIToken describes an API token; its value is never kept.
type APIToken struct {
	ID         string     `json:"id"`
	StaffID    string     `json:"staff_id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

// Live reports whether the token still works at now (its member aside).
func (t *APIToken) Live(now time.Time) bool { return t.RevokedAt == nil && now.Before(t.ExpiresAt) }

// FindAPITokens lists a member's newest 200 tokens, revoked and expired
// ones included so the list shows what happened to each.
func (s *Store) FindAPITokens(ctx context.Context, staffID string) ([]APIToken, error) {
	list, _, err := s.FindAPITokenPage(ctx, staffID, "", 200)
	return list, err
}

// FindAPITokenPage lists up to limit of a member's tokens, newest first,
// older than cursor (the next cursor of the previous page; "" for the
// first). next is "" on the last page.
func (s *Store) FindAPITokenPage(ctx context.Context, staffID, cursor string, limit int) (list []APIToken, next string, err error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (APIToken, error) {
		var t APIToken
		var used, expires, revoked sql.NullTime
		if err := row.Scan(&t.ID, &t.StaffID, &t.Name, &t.CreatedAt, &used, &expires, &revoked); err != nil {
			return t, err
		}
		t.LastUsedAt, t.RevokedAt = nullTime(used), nullTime(revoked)
		t.ExpiresAt = t.CreatedAt.Add(DefaultTokenTTL) // made before tokens had an expiry
		if expires.Valid {
			t.ExpiresAt = expires.Time
		}
		return t, nil
	}, `SELECT id, staff_id, name, created_at, last_used_at, expires_at, revoked_at FROM api_tokens
		WHERE staff_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT `+fmt.Sprint(limit+1), staffID, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("find tokens: %w", err)
	}
	if out == nil {
		out = []APIToken{} // the API lists none as [], not null
	}
	out, next = database.Page(out, limit, func(t APIToken) string { return t.ID })
	return out, next, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	return &t.Time
}

// RevokeAPIToken ends one token for good and audits it. A member revokes
// their own tokens; one who may manage staff revokes anyone's.
func (s *Store) RevokeAPIToken(ctx context.Context, id string, by *Member) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		var owner string
		var revoked sql.NullTime
		err := tx.QueryRowContext(ctx, `SELECT staff_id, revoked_at FROM api_tokens WHERE id = $1`, id).Scan(&owner, &revoked)
		if errors.Is(err, sql.ErrNoRows) || err == nil && owner != by.ID && !by.Role.Can(ManageStaff) {
			return handover.Errorf(handover.ENOTFOUND, "No such token.")
		}
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if revoked.Valid {
			return handover.Errorf(handover.ECONFLICT, "This token is already revoked.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2`, tx.Now, id); err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: by.Actor(), Action: "token.revoke", ObjectType: "api_token", ObjectID: id, Detail: "staff=" + owner})
	})
}

// revokeTokensOf ends every token of a member for good, e.g. when
// disabled: enabling the member again does not bring them back.
func revokeTokensOf(ctx context.Context, tx *database.Tx, staffID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE staff_id = $2 AND revoked_at IS NULL`, tx.Now, staffID)
	return err
}
