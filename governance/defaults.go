package governance

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/staff"
)

//go:embed defaults
var defaults embed.FS

// DefaultActor is who installs the shipped agreement and training.
const DefaultActor = "system:defaults"

type defaultModule struct {
	Role       staff.Role `json:"role"`
	Title      string     `json:"title"`
	Body       string     `json:"body"`
	Questions  []Question `json:"questions"`
	PassScore  int        `json:"pass_score"`
	PeriodDays int        `json:"period_days"`
}

// DefaultModules are the training modules Handover ships, one per role,
// answers included (tests and first-start scripts read them).
func DefaultModules() ([]*Module, error) {
	raw, err := defaults.ReadFile("defaults/training.json")
	if err != nil {
		return nil, err
	}
	var list []defaultModule
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("default training: %w", err)
	}
	out := make([]*Module, 0, len(list))
	for _, d := range list {
		out = append(out, &Module{Role: d.Role, Title: d.Title, Body: d.Body, Questions: d.Questions, PassScore: d.PassScore, PeriodDays: d.PeriodDays})
	}
	return out, nil
}

// InstallDefaults publishes the shipped confidentiality agreement when none
// was ever published, and the shipped training module of each role that
// never had one (a retired module counts: an admin's choice stays made).
// So a fresh installation is closed until each member accepts and passes;
// run it at every start, from any number of processes at once (api and
// worker starting together on a fresh database). It returns what this
// call installed.
func (s *Service) InstallDefaults(ctx context.Context) (agreement bool, modules int, err error) {
	var published int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM agreements`).Scan(&published); err != nil {
		return false, 0, fmt.Errorf("install default agreement: %w", err)
	}
	if published == 0 {
		zh, _ := defaults.ReadFile("defaults/agreement.zh.md")
		en, _ := defaults.ReadFile("defaults/agreement.en.md")
		_, err := s.publishAgreement(ctx, string(zh), string(en), DefaultActor, 1)
		switch {
		case handover.ErrorCode(err) == handover.ECONFLICT:
			// Another process starting at the same time published it.
		case err != nil:
			return false, 0, err
		default:
			agreement = true
		}
	}
	mods, err := DefaultModules()
	if err != nil {
		return agreement, 0, err
	}
	for _, m := range mods {
		var had int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM training_modules WHERE role = $1`, string(m.Role)).Scan(&had); err != nil {
			return agreement, modules, fmt.Errorf("install default training: %w", err)
		}
		if had > 0 {
			continue
		}
		err := s.CreateModule(ctx, m, DefaultActor)
		switch {
		case handover.ErrorCode(err) == handover.ECONFLICT:
			// Another process installed this role's module first (one
			// default module per role is a unique index).
		case err != nil:
			return agreement, modules, err
		default:
			modules++
		}
	}
	return agreement, modules, nil
}
