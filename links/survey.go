package links

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Survey is what a campaign's survey asks (campaigns.survey, JSON). Free
// text is always offered.
type Survey struct {
	NPS      bool   `json:"nps"`  // 0–10: how likely to recommend
	CSAT     bool   `json:"csat"` // 1–5: how satisfied
	Question string `json:"question,omitempty"`
}

// MaxSurveyText is the longest free-text answer, in characters.
const MaxSurveyText = 2000

// ParseSurvey reads a campaign's survey definition; "" is NPS and free
// text, and so is a definition that asks for no score.
func ParseSurvey(def string) (Survey, error) {
	if strings.TrimSpace(def) == "" {
		return Survey{NPS: true}, nil
	}
	var s Survey
	if err := json.Unmarshal([]byte(def), &s); err != nil {
		return Survey{}, handover.Errorf(handover.EINVALID, "survey must be JSON like {\"nps\":true,\"csat\":false,\"question\":\"...\"}")
	}
	if utf8.RuneCountInString(s.Question) > 500 {
		return Survey{}, handover.Errorf(handover.EINVALID, "survey question must be at most 500 characters")
	}
	if !s.NPS && !s.CSAT {
		s.NPS = true
	}
	return s, nil
}

// SurveyFor returns the survey of the link's campaign, or the one set on
// a link issued outside a campaign (SetLinkSurvey; NPS and free text if
// none).
func (s *Store) SurveyFor(ctx context.Context, l *Link) (Survey, error) {
	q, arg := `SELECT survey FROM campaigns WHERE id = $1`, l.CampaignID
	if l.CampaignID == "" {
		q, arg = `SELECT survey FROM link_surveys WHERE link_id = $1`, l.ID
	}
	var def string
	err := s.db.QueryRowContext(ctx, q, arg).Scan(&def)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Survey{}, fmt.Errorf("find survey: %w", err)
	}
	return ParseSurvey(def)
}

// SetLinkSurvey sets the survey a link issued outside a campaign asks
// (the satisfaction survey after a ticket is resolved).
func (s *Store) SetLinkSurvey(ctx context.Context, linkID string, sv Survey) error {
	def, _ := json.Marshal(sv)
	_, err := s.db.ExecContext(ctx, `INSERT INTO link_surveys (link_id, survey) VALUES ($1, $2)
		ON CONFLICT (link_id) DO UPDATE SET survey = excluded.survey`, linkID, string(def))
	if err != nil {
		return fmt.Errorf("set link survey: %w", err)
	}
	return nil
}

// SurveyAnswer is a customer's answer through one link. NPS and CSAT are
// nil when not asked.
type SurveyAnswer struct {
	ID         string
	LinkID     string
	CustomerID string
	CampaignID string
	NPS        *int
	CSAT       *int
	Text       string
	CreatedAt  time.Time
}

// NeedsFollowUp reports whether the answer should reach the feedback
// queue: it has free text or a low score (NPS ≤ 6, CSAT ≤ 2).
func (a *SurveyAnswer) NeedsFollowUp() bool {
	return strings.TrimSpace(a.Text) != "" || (a.NPS != nil && *a.NPS <= 6) || (a.CSAT != nil && *a.CSAT <= 2)
}

func (sv Survey) check(a *SurveyAnswer) error {
	if sv.NPS != (a.NPS != nil) || sv.CSAT != (a.CSAT != nil) {
		return handover.Errorf(handover.EINVALID, "Answer the survey's questions.")
	}
	if a.NPS != nil && (*a.NPS < 0 || *a.NPS > 10) {
		return handover.Errorf(handover.EINVALID, "The recommendation score is from 0 to 10.")
	}
	if a.CSAT != nil && (*a.CSAT < 1 || *a.CSAT > 5) {
		return handover.Errorf(handover.EINVALID, "The satisfaction score is from 1 to 5.")
	}
	a.Text = strings.TrimSpace(a.Text)
	if !utf8.ValidString(a.Text) || utf8.RuneCountInString(a.Text) > MaxSurveyText {
		return handover.Errorf(handover.EINVALID, "Please keep your comment under %d characters.", MaxSurveyText)
	}
	return nil
}

func answerContext(id string) string { return id + "/survey" }

// AnswerSurvey stores the link's one answer (free text sealed with the
// customer's data key) and audits it. A second answer through the same
// link changes nothing: the first is returned with created false.
func (s *Store) AnswerSurvey(ctx context.Context, l *Link, a SurveyAnswer) (*SurveyAnswer, bool, error) {
	sv, err := s.SurveyFor(ctx, l)
	if err != nil {
		return nil, false, err
	}
	if err := sv.check(&a); err != nil {
		return nil, false, err
	}
	a.ID, a.LinkID, a.CustomerID, a.CampaignID = ulid.Make().String(), l.ID, l.CustomerID, l.CampaignID
	created := false
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		keys, err := s.vault.CustomerKeys(ctx, tx, []string{l.CustomerID})
		if err != nil {
			return err
		}
		dk := keys[l.CustomerID]
		if dk == nil {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		enc := ""
		if a.Text != "" {
			enc = dk.Seal(a.Text, answerContext(a.ID))
		}
		a.CreatedAt = tx.Now
		res, err := tx.ExecContext(ctx, `INSERT INTO survey_answers (id, link_id, customer_id, campaign_id, nps, csat, text_enc, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (link_id) DO NOTHING`,
			a.ID, a.LinkID, a.CustomerID, a.CampaignID, intOrNil(a.NPS), intOrNil(a.CSAT), enc, tx.Now)
		if err != nil {
			return fmt.Errorf("answer survey: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		created = true
		return audit.Record(ctx, tx, audit.Entry{Actor: "customer:" + l.CustomerID, Action: "survey.answer", ObjectType: "customer",
			ObjectID: l.CustomerID, Detail: fmt.Sprintf("link=%s answer=%s", l.ID, a.ID)})
	})
	if err != nil || created {
		return &a, created, err
	}
	prev, err := s.FindSurveyAnswer(ctx, l)
	return prev, false, err
}

func intOrNil(p *int) any {
	if p == nil {
		return nil
	}
	return int64(*p)
}

// FindSurveyAnswer returns the answer given through the link, or an
// ENOTFOUND error.
func (s *Store) FindSurveyAnswer(ctx context.Context, l *Link) (*SurveyAnswer, error) {
	var a SurveyAnswer
	var nps, csat sql.NullInt64
	var enc string
	err := s.db.QueryRowContext(ctx, `SELECT id, link_id, customer_id, campaign_id, nps, csat, text_enc, created_at
		FROM survey_answers WHERE link_id = $1`, l.ID).Scan(&a.ID, &a.LinkID, &a.CustomerID, &a.CampaignID, &nps, &csat, &enc, &a.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "No answer yet.")
	} else if err != nil {
		return nil, fmt.Errorf("find survey answer: %w", err)
	}
	a.CreatedAt = a.CreatedAt.UTC()
	if nps.Valid {
		v := int(nps.Int64)
		a.NPS = &v
	}
	if csat.Valid {
		v := int(csat.Int64)
		a.CSAT = &v
	}
	if enc != "" {
		keys, err := s.vault.CustomerKeys(ctx, s.db, []string{a.CustomerID})
		if err != nil {
			return nil, err
		}
		if dk := keys[a.CustomerID]; dk != nil {
			if a.Text, err = dk.Open(enc, answerContext(a.ID)); err != nil {
				return nil, fmt.Errorf("open survey answer %s: %w", a.ID, err)
			}
		}
	}
	return &a, nil
}
