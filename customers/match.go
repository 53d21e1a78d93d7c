package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// MatchContact finds the customer reachable at a contact — WeChat openid,
// phone (E.164) or email, tried in that order — through the blind indexes.
// It returns "" when no customer has any of them. Inbound replies are
// matched this way.
func (s *Store) MatchContact(ctx context.Context, openID, phone, email string) (string, error) {
	for _, c := range []struct{ column, index string }{
		{"openid_idx", s.vault.Index.OpenID(openID)},
		{"phone_idx", s.vault.Index.Phone(phone)},
		{"email_idx", s.vault.Index.Email(email)},
	} {
		if c.index == "" {
			continue
		}
		var id string
		err := s.db.QueryRowContext(ctx, `SELECT id FROM customers WHERE `+c.column+` = $1 AND status <> 'erased'`, c.index).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("match contact: %w", err)
		}
		return id, nil
	}
	return "", nil
}
