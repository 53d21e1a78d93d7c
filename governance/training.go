package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/staff"
)

// Module is a short training: a text and a few multiple-choice questions,
// for one role, to pass again every PeriodDays.
type Module struct {
	ID         string
	Role       staff.Role
	Title      string
	Body       string
	Questions  []Question
	PassScore  int // percent of questions right, 1–100
	PeriodDays int
	CreatedBy  string
	CreatedAt  time.Time
}

// Question is one multiple-choice question; Answer indexes Options.
type Question struct {
	Q       string   `json:"q"`
	Options []string `json:"options"`
	Answer  int      `json:"answer"`
}

// Result is one attempt at a module.
type Result struct {
	ID       string
	ModuleID string
	StaffID  string
	Score    int
	Passed   bool
	TakenAt  time.Time
}

func (m *Module) validate() error {
	if _, err := staff.ParseRole(string(m.Role)); err != nil {
		return err
	}
	m.Title, m.Body = strings.TrimSpace(m.Title), strings.TrimSpace(m.Body)
	if m.Title == "" || m.Body == "" {
		return handover.Errorf(handover.EINVALID, "A training module needs a title and a body.")
	}
	if len(m.Questions) == 0 || len(m.Questions) > 50 {
		return handover.Errorf(handover.EINVALID, "A training module needs 1 to 50 questions.")
	}
	for i, q := range m.Questions {
		if strings.TrimSpace(q.Q) == "" || len(q.Options) < 2 || q.Answer < 0 || q.Answer >= len(q.Options) {
			return handover.Errorf(handover.EINVALID, "Question %d needs its text, at least two options and the index of the right one.", i+1)
		}
	}
	if m.PassScore <= 0 || m.PassScore > 100 {
		m.PassScore = 80
	}
	if m.PeriodDays <= 0 {
		m.PeriodDays = 365
	}
	return nil
}

// CreateModule validates and stores a module for its role.
func (s *Service) CreateModule(ctx context.Context, m *Module, actor string) error {
	if err := m.validate(); err != nil {
		return err
	}
	questions, _ := json.Marshal(m.Questions)
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		m.ID, m.CreatedBy, m.CreatedAt = ulid.Make().String(), actor, tx.Now
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_modules (id, role, title, body, questions, pass_score, period_days, created_by, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, m.ID, string(m.Role), m.Title, m.Body, string(questions), m.PassScore, m.PeriodDays, actor, tx.Now); err != nil {
			return fmt.Errorf("create training module: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "training.create", ObjectType: "training_module", ObjectID: m.ID, Detail: "role=" + string(m.Role)})
	})
}

// RetireModule stops requiring a module.
func (s *Service) RetireModule(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE training_modules SET retired_at = $1 WHERE id = $2 AND retired_at IS NULL`, tx.Now, id)
		if err != nil {
			return fmt.Errorf("retire training module: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Training module not found or already retired.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "training.retire", ObjectType: "training_module", ObjectID: id})
	})
}

const moduleColumns = `id, role, title, body, questions, pass_score, period_days, created_by, created_at`

func scanModule(row database.Scanner) (*Module, error) {
	var m Module
	var role, questions string
	if err := row.Scan(&m.ID, &role, &m.Title, &m.Body, &questions, &m.PassScore, &m.PeriodDays, &m.CreatedBy, &m.CreatedAt); err != nil {
		return nil, err
	}
	m.Role = staff.Role(role)
	if err := json.Unmarshal([]byte(questions), &m.Questions); err != nil {
		return nil, fmt.Errorf("read training module %s: %w", m.ID, err)
	}
	return &m, nil
}

// ModulesFor lists the active modules of a role.
func (s *Service) ModulesFor(ctx context.Context, role staff.Role) ([]*Module, error) {
	list, err := database.QueryAll(ctx, s.db, scanModule,
		`SELECT `+moduleColumns+` FROM training_modules WHERE role = $1 AND retired_at IS NULL ORDER BY created_at, id`, string(role))
	if err != nil {
		return nil, fmt.Errorf("list training modules: %w", err)
	}
	return list, nil
}

// FindModuleByID returns an active module.
func (s *Service) FindModuleByID(ctx context.Context, id string) (*Module, error) {
	m, err := database.QueryOne(ctx, s.db, scanModule, `SELECT `+moduleColumns+` FROM training_modules WHERE id = $1 AND retired_at IS NULL`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Training module not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find training module: %w", err)
	}
	return m, nil
}

// Attempts a member may make at one module per attemptWindow: enough for
// a mistake or two, too few to find the answers by trying.
const (
	MaxAttempts   = 3
	attemptWindow = time.Hour
)

// countAttempt counts one attempt in the member's window for the module
// (a window opens at the first attempt after the last one closed) and
// refuses it past MaxAttempts, saying when to try again. One upsert, so
// parallel attempts cannot slip past the limit.
func countAttempt(ctx context.Context, tx *database.Tx, staffID, moduleID string) error {
	var attempts int64
	var opened time.Time
	err := tx.QueryRowContext(ctx, `INSERT INTO training_attempts (staff_id, module_id, window_start, attempts) VALUES ($1, $2, $3, 1)
		ON CONFLICT (staff_id, module_id) DO UPDATE SET
			attempts = CASE WHEN training_attempts.window_start <= $4 THEN 1 ELSE training_attempts.attempts + 1 END,
			window_start = CASE WHEN training_attempts.window_start <= $4 THEN $3 ELSE training_attempts.window_start END
		RETURNING attempts, window_start`, staffID, moduleID, tx.Now, tx.Now.Add(-attemptWindow)).Scan(&attempts, &opened)
	if err != nil {
		return fmt.Errorf("count training attempt: %w", err)
	}
	if attempts > MaxAttempts {
		retry := opened.UTC().Add(attemptWindow)
		return handover.Errorf(handover.ETOOMANY, "You have used your %d attempts at this training for now: read it again and retry after %s UTC (in %d minutes).",
			MaxAttempts, retry.Format("2006-01-02 15:04"), int(retry.Sub(tx.Now).Minutes())+1)
	}
	return nil
}

// TakeTraining scores answers (one option index per question) and records
// the result; a module of another role cannot be taken for credit. Only
// the score comes back, never which answers were wrong, and at most
// MaxAttempts attempts an hour count.
func (s *Service) TakeTraining(ctx context.Context, m *staff.Member, moduleID string, answers []int) (*Result, error) {
	mod, err := s.FindModuleByID(ctx, moduleID)
	if err != nil {
		return nil, err
	}
	if mod.Role != m.Role {
		return nil, handover.Errorf(handover.EFORBIDDEN, "This training is for the %s role.", mod.Role)
	}
	if len(answers) != len(mod.Questions) {
		return nil, handover.Errorf(handover.EINVALID, "Answer all %d questions.", len(mod.Questions))
	}
	right := 0
	for i, q := range mod.Questions {
		if answers[i] == q.Answer {
			right++
		}
	}
	r := &Result{ID: ulid.Make().String(), ModuleID: mod.ID, StaffID: m.ID, Score: right * 100 / len(mod.Questions)}
	r.Passed = r.Score >= mod.PassScore
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		r.TakenAt = tx.Now
		if err := countAttempt(ctx, tx, m.ID, mod.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO training_results (id, module_id, staff_id, score, passed, taken_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.ModuleID, r.StaffID, r.Score, r.Passed, tx.Now); err != nil {
			return fmt.Errorf("record training result: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: m.Actor(), Action: "training.take", ObjectType: "training_module", ObjectID: mod.ID,
			Detail: fmt.Sprintf("score=%d passed=%t", r.Score, r.Passed)})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// dueTraining lists the member's role modules without a pass in period.
func (s *Service) dueTraining(ctx context.Context, m *staff.Member, now time.Time) ([]*Module, error) {
	mods, err := s.ModulesFor(ctx, m.Role)
	if err != nil || len(mods) == 0 {
		return nil, err
	}
	var due []*Module
	for _, mod := range mods {
		var last sql.NullTime
		err := s.db.QueryRowContext(ctx, `SELECT taken_at FROM training_results WHERE staff_id = $1 AND module_id = $2 AND passed
			ORDER BY taken_at DESC LIMIT 1`,
			m.ID, mod.ID).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("check training: %w", err)
		}
		if !last.Valid || now.Sub(last.Time) > time.Duration(mod.PeriodDays)*24*time.Hour {
			due = append(due, mod)
		}
	}
	return due, nil
}

// DueTraining lists the modules m must pass before seeing customer data.
func (s *Service) DueTraining(ctx context.Context, m *staff.Member) ([]*Module, error) {
	return s.dueTraining(ctx, m, s.db.Now())
}

// TrainingResults lists the newest 1,000 attempts, for auditors.
func (s *Service) TrainingResults(ctx context.Context, staffID string) ([]Result, error) {
	out, _, err := s.TrainingResultPage(ctx, staffID, "", 1000)
	return out, err
}

// TrainingResultPage lists up to limit attempts ("" staffID: everyone's),
// newest first, older than cursor (the next cursor of the previous page;
// "" for the first). next is "" on the last page.
func (s *Service) TrainingResultPage(ctx context.Context, staffID, cursor string, limit int) (out []Result, next string, err error) {
	out, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (Result, error) {
		var r Result
		err := row.Scan(&r.ID, &r.ModuleID, &r.StaffID, &r.Score, &r.Passed, &r.TakenAt)
		return r, err
	}, `SELECT id, module_id, staff_id, score, passed, taken_at FROM training_results
		WHERE ($1 = '' OR staff_id = $1) AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT `+fmt.Sprint(limit+1), staffID, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("training results: %w", err)
	}
	out, next = database.Page(out, limit, func(r Result) string { return r.ID })
	return out, next, nil
}
