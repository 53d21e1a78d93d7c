package rights

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Confirmation code rules: a code proves the customer holds a phone or an
// email address (a new one for a correction, the one on file to see their
// data).
const (
	CodeLength      = 6
	CodeTTL         = 10 * time.Minute
	CodeMaxAttempts = 5
	// At most one code a minute and five an hour per customer.
	codesPerMinute = 1
	codesPerHour   = 5
)

// Code purposes.
const (
	codeCorrection = "correction"
	codeDataAccess = "data_access"
)

// SendFunc sends one message; the caller decides how (ChannelSender, or
// the devbox channel in embedded mode). It must not log the message text:
// it carries the code.
type SendFunc func(ctx context.Context, m channels.Message) error

// ChannelSender returns a SendFunc that sends a code by SMS to a phone, by
// email to an address and by WeChat to an openid (a customer-service text
// message, which WeChat carries only within 48 hours of the customer's
// last message to the official account), falling back to the devbox
// channel when the provider channel is not configured (embedded mode).
//
// smsTemplate is the Aliyun template code approved for confirmation codes
// (HANDOVER_SMS_CODE_TEMPLATE, one variable: code); Aliyun sends nothing
// without one.
func ChannelSender(chans map[channels.Name]channels.Channel, smsTemplate string) SendFunc {
	return func(ctx context.Context, m channels.Message) error {
		name := channels.Email
		if m.To.OpenID != "" {
			name, m.Kind, m.Template = channels.WeChat, channels.Reply, nil
		}
		if m.To.Phone != "" {
			name = channels.SMS
			if chans[channels.SMS] != nil && smsTemplate == "" {
				return handover.Errorf(handover.EUNAVAILABLE, "Codes cannot be sent by SMS here; choose email instead.")
			}
			if m.Template != nil {
				t := *m.Template
				t.TemplateCode = smsTemplate
				m.Template = &t
			}
		}
		ch := chans[name]
		if ch == nil {
			ch = chans[channels.Devbox]
		}
		if ch == nil {
			return handover.Errorf(handover.EUNAVAILABLE, "No channel can send the confirmation code.")
		}
		res := ch.Send(ctx, []channels.Message{m})
		if len(res) != 1 || res[0].Err != nil {
			return handover.Errorf(handover.EUNAVAILABLE, "The confirmation code could not be sent; try again later.")
		}
		return nil
	}
}

// Challenge is a confirmation code on its way to the customer: what the
// portal shows while it waits for the code.
type Challenge struct {
	ID string
	// To is the contact the code went to, masked.
	To        string
	ExpiresAt time.Time
}

// ParseCode reads a code as a customer types it: ASCII or full-width
// digits, with spaces or dashes between them. It returns the six ASCII
// digits.
func ParseCode(s string) (string, error) {
	if len(s) > 64 {
		return "", handover.Errorf(handover.EINVALID, "The code is six digits.")
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= '０' && r <= '９':
			b.WriteRune('0' + (r - '０'))
		case r == ' ' || r == '-' || r == '\u3000' || r == '\t':
		default:
			return "", handover.Errorf(handover.EINVALID, "The code is six digits.")
		}
	}
	if b.Len() != CodeLength {
		return "", handover.Errorf(handover.EINVALID, "The code is six digits.")
	}
	return b.String(), nil
}

func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil { // crypto/rand does not fail
		panic(err)
	}
	return fmt.Sprintf("%06d", n.Int64())
}

// codeHash binds the code to its row, so equal codes hash differently.
func codeHash(id, code string) string {
	sum := sha256.Sum256([]byte(id + ":" + code))
	return hex.EncodeToString(sum[:])
}

// issueCode stores a new code for the customer and returns it with its
// challenge; the caller sends it after the transaction commits. It
// enforces the resend limits.
func issueCode(ctx context.Context, tx *database.Tx, customerID, purpose, subjectID string) (code string, ch *Challenge, err error) {
	var lastMinute, lastHour int
	err = tx.QueryRowContext(ctx, `SELECT
		COALESCE(SUM(CASE WHEN created_at > $2 THEN 1 ELSE 0 END), 0),
		COUNT(*) FROM confirmation_codes WHERE customer_id = $1 AND created_at > $3`,
		customerID, tx.Now.Add(-time.Minute), tx.Now.Add(-time.Hour)).Scan(&lastMinute, &lastHour)
	if err != nil {
		return "", nil, fmt.Errorf("count codes: %w", err)
	}
	if lastMinute >= codesPerMinute {
		return "", nil, handover.Errorf(handover.ETOOMANY, "A code was sent less than a minute ago; wait a minute before asking for another.")
	}
	if lastHour >= codesPerHour {
		return "", nil, handover.Errorf(handover.ETOOMANY, "Too many codes were sent in the last hour; try again later.")
	}
	ch = &Challenge{ID: ulid.Make().String(), ExpiresAt: tx.Now.Add(CodeTTL)}
	code = newCode()
	_, err = tx.ExecContext(ctx, `INSERT INTO confirmation_codes (id, customer_id, purpose, subject_id, code_hash, expires_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, ch.ID, customerID, purpose, subjectID, codeHash(ch.ID, code), ch.ExpiresAt, tx.Now)
	if err != nil {
		return "", nil, fmt.Errorf("store code: %w", err)
	}
	return code, ch, nil
}

// errWrongCode is what every failed check returns: a wrong, expired,
// used or exhausted code all look the same to the customer.
var errWrongCode = handover.Errorf(handover.EINVALID, "The code is wrong or has expired; ask for a new one.")

// checkCode counts an attempt at the code and, when it matches, uses it
// up. It reports whether the code was accepted; a rejected attempt must
// still commit, so it is not an error. The subject id of the code comes
// back for the caller to act on.
func checkCode(ctx context.Context, tx *database.Tx, challengeID, customerID, purpose, input string) (subjectID string, ok bool, err error) {
	code, err := ParseCode(input)
	if err != nil {
		return "", false, err
	}
	var hash string
	// The conditional update counts the attempt and takes the row lock, so
	// two racing checks of one code cannot both use it.
	err = tx.QueryRowContext(ctx, `UPDATE confirmation_codes SET attempts = attempts + 1
		WHERE id = $1 AND customer_id = $2 AND purpose = $3 AND used_at IS NULL AND attempts < $4 AND expires_at > $5
		RETURNING code_hash, subject_id`, challengeID, customerID, purpose, CodeMaxAttempts, tx.Now).Scan(&hash, &subjectID)
	if err != nil {
		if err = database.MapError(err); handover.ErrorCode(err) == handover.ENOTFOUND {
			return "", false, nil
		}
		return "", false, fmt.Errorf("check code: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(hash), []byte(codeHash(challengeID, code))) != 1 {
		return "", false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE confirmation_codes SET used_at = $1 WHERE id = $2`, tx.Now, challengeID); err != nil {
		return "", false, fmt.Errorf("use code: %w", err)
	}
	return subjectID, true, nil
}

// codeMessage is the message that carries a code, in the customer's
// language. Its delivery id, which channels use as an idempotency key and
// the email Message-ID, is "code-" and the challenge id: no deliveries row
// has it.
func codeMessage(ch *Challenge, customerID, locale string, to channels.Address, code string) channels.Message {
	text := fmt.Sprintf("您的验证码是 %s，%d 分钟内有效。请勿告诉他人。", code, int(CodeTTL/time.Minute))
	subject := "验证码"
	if strings.HasPrefix(locale, "en") {
		text = fmt.Sprintf("Your confirmation code is %s. It is valid for %d minutes. Do not share it.", code, int(CodeTTL/time.Minute))
		subject = "Confirmation code"
	}
	return channels.Message{DeliveryID: "code-" + ch.ID, CustomerID: customerID, To: to, Kind: channels.Notice, Subject: subject, Text: text,
		Template: &channels.Template{Params: map[string]string{"code": code}}}
}

// maskAddress masks the contact a code went to.
func maskAddress(to channels.Address) string {
	if to.OpenID != "" {
		return pii.MaskText(to.OpenID)
	}
	if to.Phone != "" {
		return pii.MaskPhone(to.Phone)
	}
	return pii.MaskEmail(to.Email)
}

// sendCode sends a code issued in a committed transaction. When sending
// fails the code is withdrawn so that it cannot be guessed, and the
// failure is the caller's error; the throttle still counts it.
func (s *Store) sendCode(ctx context.Context, send SendFunc, ch *Challenge, m channels.Message) error {
	if err := send(ctx, m); err != nil {
		_ = s.db.InTx(ctx, func(tx *database.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE confirmation_codes SET used_at = $1 WHERE id = $2`, tx.Now, ch.ID)
			return err
		})
		if handover.ErrorCode(err) != handover.EINTERNAL {
			return err
		}
		return handover.Errorf(handover.EUNAVAILABLE, "The confirmation code could not be sent; try again later.")
	}
	return nil
}
