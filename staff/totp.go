package staff

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// TOTPEnrolment is a new authenticator secret, shown as text (no QR code)
// to be typed or pasted into an authenticator app.
type TOTPEnrolment struct {
	Secret string // base32
	URL    string // otpauth://totp/Handover:email?secret=…&issuer=Handover
}

// BeginTOTP stores a new secret for the member, not yet in force, and
// returns it. ConfirmTOTP turns it on once the member proves a code.
func (s *Store) BeginTOTP(ctx context.Context, id string) (*TOTPEnrolment, error) {
	m, err := s.FindMemberByID(ctx, id)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Handover", AccountName: m.Email})
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE staff SET totp_secret = $1 WHERE id = $2 AND totp_enabled = FALSE`, key.Secret(), id); err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	return &TOTPEnrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP turns TOTP on when code matches the secret BeginTOTP stored.
func (s *Store) ConfirmTOTP(ctx context.Context, id, code string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		var secret string
		var on bool
		if err := tx.QueryRowContext(ctx, `SELECT totp_secret, totp_enabled FROM staff WHERE id = $1`, id).Scan(&secret, &on); err != nil {
			return fmt.Errorf("totp: %w", err)
		}
		if on {
			return handover.Errorf(handover.ECONFLICT, "Two-step sign-in is already on.")
		}
		ok := false
		if secret != "" {
			var err error
			if ok, err = useTOTPCode(ctx, tx, id, secret, strings.TrimSpace(code)); err != nil {
				return err
			}
		}
		if !ok {
			return handover.Errorf(handover.EINVALID, "The code does not match; check the device's clock and try the next code.")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET totp_enabled = TRUE WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "staff:" + id, Action: "staff.totp_on", ObjectType: "staff", ObjectID: id})
	})
}

// TOTPEnabled reports whether the member signs in with a code.
func (s *Store) TOTPEnabled(ctx context.Context, id string) (bool, error) {
	var on bool
	err := s.db.QueryRowContext(ctx, `SELECT totp_enabled FROM staff WHERE id = $1`, id).Scan(&on)
	return on, err
}

// ResetTOTP turns TOTP off for a member (who lost their device) and
// audits who did it.
func (s *Store) ResetTOTP(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET totp_enabled = FALSE, totp_secret = '' WHERE id = $1`, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "staff.totp_off", ObjectType: "staff", ObjectID: id})
	})
}

// totpStep finds the 30-second step whose code is code, allowing one step
// of clock drift either way; 0 when none matches.
func totpStep(secret, code string, now time.Time) int64 {
	for _, drift := range []int64{0, -1, 1} {
		step := now.Unix()/30 + drift
		want, err := totp.GenerateCode(secret, time.Unix(step*30, 0))
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return step
		}
	}
	return 0
}

// useTOTPCode accepts a code once: its step must be later than the last
// accepted one, which it then becomes.
func useTOTPCode(ctx context.Context, tx *database.Tx, id, secret, code string) (bool, error) {
	step := totpStep(secret, code, tx.Now)
	if step == 0 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1`, step, id)
	if err != nil {
		return false, fmt.Errorf("totp: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
