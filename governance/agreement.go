package governance

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/staff"
)

// Agreement is one version of the confidentiality agreement.
type Agreement struct {
	Version     int64
	TextZH      string
	TextEN      string
	Hash        string
	PublishedBy string
	PublishedAt time.Time
}

// Text returns the agreement in the locale, Chinese unless "en".
func (a *Agreement) Text(locale string) string {
	if strings.HasPrefix(locale, "en") {
		return a.TextEN
	}
	return a.TextZH
}

func agreementHash(zh, en string) string {
	sum := sha256.Sum256([]byte(zh + "\x00" + en))
	return hex.EncodeToString(sum[:])
}

// PublishAgreement stores a new version; every staff member must accept
// it before seeing customer data again.
func (s *Service) PublishAgreement(ctx context.Context, textZH, textEN, actor string) (*Agreement, error) {
	return s.publishAgreement(ctx, textZH, textEN, actor, 0)
}

// publishAgreement publishes the next version, or exactly version when it
// is not 0: a second publication of that version is a conflict.
func (s *Service) publishAgreement(ctx context.Context, textZH, textEN, actor string, version int64) (*Agreement, error) {
	textZH, textEN = strings.TrimSpace(textZH), strings.TrimSpace(textEN)
	if textZH == "" || textEN == "" {
		return nil, handover.Errorf(handover.EINVALID, "The agreement needs its text in Chinese (text_zh) and English (text_en).")
	}
	if len(textZH)+len(textEN) > 200_000 {
		return nil, handover.Errorf(handover.ETOOLARGE, "The agreement text is too long (200 KB at most).")
	}
	a := &Agreement{TextZH: textZH, TextEN: textEN, Hash: agreementHash(textZH, textEN), PublishedBy: actor}
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		a.Version = version
		if version == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM agreements`).Scan(&a.Version); err != nil {
				return fmt.Errorf("publish agreement: %w", err)
			}
		}
		a.PublishedAt = tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreements (version, text_zh, text_en, hash, published_by, published_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, a.Version, a.TextZH, a.TextEN, a.Hash, actor, tx.Now); err != nil {
			return fmt.Errorf("publish agreement: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "agreement.publish", ObjectType: "agreement",
			ObjectID: fmt.Sprint(a.Version), Detail: "hash=" + a.Hash})
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// CurrentAgreement returns the newest version, or ENOTFOUND when none is
// published.
func (s *Service) CurrentAgreement(ctx context.Context) (*Agreement, error) {
	var a Agreement
	err := s.db.QueryRowContext(ctx, `SELECT version, text_zh, text_en, hash, published_by, published_at FROM agreements
		ORDER BY version DESC LIMIT 1`).Scan(&a.Version, &a.TextZH, &a.TextEN, &a.Hash, &a.PublishedBy, &a.PublishedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "No confidentiality agreement is published.")
	} else if err != nil {
		return nil, fmt.Errorf("current agreement: %w", err)
	}
	a.PublishedAt = a.PublishedAt.UTC()
	return &a, nil
}

// Acceptances returns when each member last accepted version, by staff
// id: who has and has not read the current text.
func (s *Service) Acceptances(ctx context.Context, version int64) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var id string
		var at time.Time
		if err := row.Scan(&id, &at); err != nil {
			return err
		}
		out[id] = at.UTC()
		return nil
	}, `SELECT staff_id, accepted_at FROM agreement_acceptances WHERE version = $1 ORDER BY accepted_at`, version)
	if err != nil {
		return nil, fmt.Errorf("agreement acceptances: %w", err)
	}
	return out, nil
}

// AcceptAgreement records that m accepted the version whose hash they
// were shown; a stale hash (a newer version was published meanwhile) is a
// conflict, so nobody accepts a text they did not see.
func (s *Service) AcceptAgreement(ctx context.Context, m *staff.Member, hash, ip string) error {
	cur, err := s.CurrentAgreement(ctx)
	if err != nil {
		return err
	}
	if hash != cur.Hash {
		return handover.Errorf(handover.ECONFLICT, "The agreement changed since it was shown; read the current version and accept again.")
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_acceptances (staff_id, version, hash, ip, accepted_at)
			VALUES ($1, $2, $3, $4, $5)`, m.ID, cur.Version, cur.Hash, ip, tx.Now); err != nil {
			return fmt.Errorf("accept agreement: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: m.Actor(), Action: "agreement.accept", ObjectType: "agreement",
			ObjectID: fmt.Sprint(cur.Version), Detail: "hash=" + cur.Hash})
	})
}

// AgreementPath and TrainingPath are where a blocked staff member goes to
// unblock themselves; the 403 names them.
const (
	AgreementPath = "/agreement"
	TrainingPath  = "/training"
)

// AccessError is the 403 CheckAccess returns: it names the page where the
// member unblocks themselves, so the dashboard can link to it.
type AccessError struct {
	Err  *handover.Error // the 403 with what to do
	Path string          // AgreementPath or TrainingPath
}

func (e *AccessError) Error() string { return e.Err.Error() }

// Unwrap lets handover.ErrorCode and ErrorMessage see the 403.
func (e *AccessError) Unwrap() error { return e.Err }

// CheckAccess returns nil when m may see customer data now: they accepted
// the current agreement within the period and passed every training
// module of their role within its period. Otherwise an EFORBIDDEN error
// says what to do. With no agreement published there is nothing to accept.
func (s *Service) CheckAccess(ctx context.Context, m *staff.Member) error {
	now := s.db.Now()
	var accepted sql.NullTime
	// ORDER BY … LIMIT 1, not MAX(): SQLite's aggregates lose the column
	// type and give text, not a time.
	err := s.db.QueryRowContext(ctx, `SELECT aa.accepted_at FROM agreement_acceptances aa
		WHERE aa.staff_id = $1 AND aa.version = (SELECT MAX(version) FROM agreements) ORDER BY aa.accepted_at DESC LIMIT 1`, m.ID).Scan(&accepted)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("check agreement: %w", err)
	}
	if !accepted.Valid || now.Sub(accepted.Time) > s.cfg.AgreementPeriod {
		if _, err := s.CurrentAgreement(ctx); handover.ErrorCode(err) != handover.ENOTFOUND {
			if err != nil {
				return err
			}
			return &AccessError{Path: AgreementPath, Err: handover.Errorf(handover.EFORBIDDEN,
				"Accept the current confidentiality agreement before you see customer data: open %s in the dashboard or POST /api/v1/agreement/accept.", AgreementPath)}
		}
	}
	due, err := s.dueTraining(ctx, m, now)
	if err != nil {
		return err
	}
	if len(due) > 0 {
		return &AccessError{Path: TrainingPath, Err: handover.Errorf(handover.EFORBIDDEN,
			"Pass the training %q before you see customer data: open %s in the dashboard.", due[0].Title, TrainingPath)}
	}
	return nil
}
