package staff

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// FindMembers lists every staff member, enabled first, by name and email.
func (s *Store) FindMembers(ctx context.Context) ([]*Member, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (*Member, error) {
		var m Member
		var role string
		var disabled sql.NullTime
		if err := row.Scan(&m.ID, &m.Email, &m.Name, &role, &m.Locale, &m.TimeZone, &disabled, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.Role = Role(role)
		if disabled.Valid {
			m.DisabledAt = &disabled.Time
		}
		return &m, nil
	}, `SELECT id, email, name, role, locale, time_zone, disabled_at, created_at FROM staff
		ORDER BY CASE WHEN disabled_at IS NULL THEN 0 ELSE 1 END, name, email LIMIT 1000`)
	if err != nil {
		return nil, fmt.Errorf("find staff: %w", err)
	}
	return out, nil
}

// ChangeRole gives a member another role, effective on their next request,
// and audits it. An admin cannot change their own role, so the last admin
// cannot lock everyone out by accident.
func (s *Store) ChangeRole(ctx context.Context, id string, role Role, actor string) error {
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if actor == "staff:"+id {
		return handover.Errorf(handover.EINVALID, "You cannot change your own role; ask another admin.")
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET role = $1 WHERE id = $2`, string(role), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "staff member not found")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.role", ObjectType: "staff", ObjectID: id, Detail: "role=" + string(role)})
	})
}

// DisableMember stops a member from signing in, ends their sessions at
// once, revokes their API tokens for good, and audits it. Nobody can
// disable themselves.
func (s *Store) DisableMember(ctx context.Context, id, actor string) error {
	if actor == "staff:"+id {
		return handover.Errorf(handover.EINVALID, "You cannot disable your own account.")
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL`, tx.Now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ECONFLICT, "This member is already disabled or does not exist.")
		}
		if err := endSessionsOf(ctx, tx, id); err != nil {
			return err
		}
		if err := revokeTokensOf(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.disable", ObjectType: "staff", ObjectID: id})
	})
}

// EnableMember lets a disabled member sign in again and audits it; the
// tokens revoked when they were disabled stay revoked.
func (s *Store) EnableMember(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff SET disabled_at = NULL WHERE id = $1 AND disabled_at IS NOT NULL`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ECONFLICT, "This member is already enabled or does not exist.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.enable", ObjectType: "staff", ObjectID: id})
	})
}

// Locales staff may choose for the dashboard.
var Locales = []string{"zh-CN", "en"}

// UpdatePreferences sets a member's dashboard language and time zone (an
// IANA name such as Asia/Shanghai).
func (s *Store) UpdatePreferences(ctx context.Context, id, locale, timeZone string) error {
	if locale != "zh-CN" && locale != "en" {
		return handover.Errorf(handover.EINVALID, "locale must be zh-CN or en")
	}
	if _, err := time.LoadLocation(timeZone); err != nil || timeZone == "" || timeZone == "Local" {
		return handover.Errorf(handover.EINVALID, "time zone must be an IANA name such as Asia/Shanghai")
	}
	_, err := s.db.ExecContext(ctx, `UPDATE staff SET locale = $1, time_zone = $2 WHERE id = $3`, locale, timeZone, id)
	return err
}
