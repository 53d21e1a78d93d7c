package staff

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Login throttling: failed sign-ins are counted over LoginWindow, per
// account and client address together (the email, known or not), and per
// client address. An account is never locked for everyone: a guesser
// elsewhere cannot lock an admin out, and an admin can unlock an account
// (UnlockMember).
const (
	LoginWindow           = 15 * time.Minute
	MaxFailuresPerAccount = 5
	MaxFailuresPerIP      = 20
)

// ThrottledError says sign-in is refused for a while after too many
// failures; the web layer answers it with 429.
type ThrottledError struct {
	// PerAccount is true when the account from this address, false when
	// the address for every account, is throttled.
	PerAccount bool
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	mins := int(e.RetryAfter.Round(time.Minute) / time.Minute)
	if mins < 1 {
		mins = 1
	}
	if e.PerAccount {
		return fmt.Sprintf("Too many failed sign-ins for this account from your address. Try again in %d minutes, or ask an admin to unlock it.", mins)
	}
	return fmt.Sprintf("Too many failed sign-ins from your address. Try again in %d minutes.", mins)
}

// LoginInput is what the sign-in form sends.
type LoginInput struct {
	Email    string
	Password string
	// Code is the authenticator's 6 digits, needed when TOTP is on.
	Code string
	// IP is the client address: counted (hashed) for throttling, never
	// stored or logged as is.
	IP string
}

// errBadCode rolls back a sign-in whose TOTP code did not match.
var errBadCode = errors.New("bad totp code")

// dummyHash makes a sign-in for an unknown email cost as much as one for a
// known email, so timing does not tell which emails have accounts. It is
// computed at the first such sign-in, not at every process start (a 64 MiB
// argon2id hash would slow `handover version` and every CLI command).
var dummyHash = sync.OnceValue(func() string { return HashPassword("handover-dummy-password") })

// Login checks an email, password and (when enrolled) TOTP code, and
// starts a session. Every outcome is audited; failures are counted for
// throttling and answered with one message that does not say which part
// was wrong.
func (s *Store) Login(ctx context.Context, in LoginInput, p SessionPolicy) (*Session, *Member, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	scopes := []string{accountScope(email) + "ip:" + scopeHash(in.IP), "ip:" + scopeHash(in.IP)}
	if err := s.checkThrottle(ctx, scopes); err != nil {
		return nil, nil, refuse(err, s.auditLogin(ctx, "", "failed", "throttled"))
	}
	bad := handover.Errorf(handover.EUNAUTHORIZED, "The email or password is wrong.")
	var id, hash, secret string
	var disabled, expires sql.NullTime
	var totpOn bool
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, disabled_at, expires_at, totp_secret, totp_enabled FROM staff WHERE email = $1`, email).
		Scan(&id, &hash, &disabled, &expires, &secret, &totpOn)
	if errors.Is(err, sql.ErrNoRows) {
		VerifyPassword(dummyHash(), in.Password)
		return nil, nil, refuse(bad, s.fail(ctx, scopes, "", "unknown_account"))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("login: %w", err)
	}
	if hash == "" || !VerifyPassword(hash, in.Password) {
		return nil, nil, refuse(bad, s.fail(ctx, scopes, id, "bad_password"))
	}
	if disabled.Valid {
		return nil, nil, refuse(handover.Errorf(handover.EUNAUTHORIZED, "This account is disabled; ask an admin."),
			s.fail(ctx, scopes, id, "disabled"))
	}
	if expires.Valid && !s.db.Now().Before(expires.Time) {
		return nil, nil, refuse(handover.Errorf(handover.EUNAUTHORIZED, "This account has expired; ask an admin."),
			s.fail(ctx, scopes, id, "expired"))
	}
	if totpOn {
		code := strings.TrimSpace(in.Code)
		if code == "" {
			return nil, nil, handover.Errorf(handover.EUNAUTHORIZED, "Enter the 6-digit code from your authenticator app.")
		}
	}
	var sess *Session
	badCode := false
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		if totpOn {
			ok, err := useTOTPCode(ctx, tx, id, secret, strings.TrimSpace(in.Code))
			if err != nil || !ok {
				badCode = err == nil
				return errors.Join(err, errBadCode)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE scope = $1`, scopes[0]); err != nil {
			return err
		}
		// Sessions that ended by time without coming back are swept here,
		// so the table holds little more than the live ones.
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1 OR last_seen_at < $2`,
			tx.Now, tx.Now.Add(-p.withDefaults().Idle)); err != nil {
			return err
		}
		if sess, err = createSession(ctx, tx, id, p); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "staff:" + id, Action: "staff.login", ObjectType: "staff", ObjectID: id,
			Detail: fmt.Sprintf("totp=%t", totpOn)})
	})
	if badCode {
		return nil, nil, refuse(handover.Errorf(handover.EUNAUTHORIZED, "The authenticator code is wrong, expired or already used."),
			s.fail(ctx, scopes, id, "bad_code"))
	}
	if err != nil {
		return nil, nil, err
	}
	m, err := s.FindMemberByID(ctx, id)
	return sess, m, err
}

// scopeHash keeps emails and addresses out of the throttling table.
func scopeHash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:16])
}

// accountScope starts every throttling scope of one account, so that an
// unlock can clear them all.
func accountScope(email string) string { return "account:" + scopeHash(email) + "/" }

// UnlockMember forgets a member's failed sign-ins from every address, so
// that they can sign in again at once, and audits who did it.
func (s *Store) UnlockMember(ctx context.Context, id, actor string) error {
	m, err := s.FindMemberByID(ctx, id)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE scope LIKE $1`, accountScope(m.Email)+"%")
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.unlock", ObjectType: "staff", ObjectID: id,
			Detail: fmt.Sprintf("failures=%d", n)})
	})
}

func (s *Store) checkThrottle(ctx context.Context, scopes []string) error {
	since := s.db.Now().Add(-LoginWindow)
	for i, scope := range scopes {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM login_failures WHERE scope = $1 AND created_at > $2`,
			scope, since).Scan(&n); err != nil {
			return fmt.Errorf("login throttle: %w", err)
		}
		limit := MaxFailuresPerAccount
		if i > 0 {
			limit = MaxFailuresPerIP
		}
		if n >= limit {
			// The oldest failure in the window is the next to leave it.
			var oldest time.Time
			if err := s.db.QueryRowContext(ctx, `SELECT created_at FROM login_failures WHERE scope = $1 AND created_at > $2
				ORDER BY created_at LIMIT 1`, scope, since).Scan(&oldest); err != nil {
				return fmt.Errorf("login throttle: %w", err)
			}
			retry := oldest.Add(LoginWindow).Sub(s.db.Now())
			return &ThrottledError{PerAccount: i == 0, RetryAfter: retry}
		}
	}
	return nil
}

// fail counts a failed sign-in in every scope, forgets failures older than
// the window, and audits it.
func (s *Store) fail(ctx context.Context, scopes []string, staffID, reason string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_failures WHERE created_at < $1`, tx.Now.Add(-LoginWindow)); err != nil {
			return err
		}
		for _, scope := range scopes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO login_failures (id, scope, created_at) VALUES ($1, $2, $3)`,
				ulid.Make().String(), scope, tx.Now); err != nil {
				return err
			}
		}
		return recordLogin(ctx, tx, staffID, "failed", reason)
	})
}

func (s *Store) auditLogin(ctx context.Context, staffID, outcome, reason string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error { return recordLogin(ctx, tx, staffID, outcome, reason) })
}

// recordLogin audits a refused sign-in. The actor is "system": whoever
// typed the password is not known to be the member.
func recordLogin(ctx context.Context, tx *database.Tx, staffID, outcome, reason string) error {
	return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "staff.login_" + outcome, ObjectType: "staff", ObjectID: staffID,
		Detail: "reason=" + reason})
}

// refuse answers a refused sign-in with userErr, unless recording the
// refusal itself failed.
func refuse(userErr, recordErr error) error {
	if recordErr != nil {
		return recordErr
	}
	return userErr
}
