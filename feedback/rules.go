package feedback

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"
	"golang.org/x/text/width"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Rule match modes.
const (
	MatchExact    = "exact"    // the whole message is the keyword
	MatchContains = "contains" // the message contains the keyword
)

// Rule actions.
const (
	// ActionOptOut opts the customer out of promotional messages and
	// surveys on the channel they wrote on (customers.ReplyOptOutKinds;
	// the notices the law requires still come), closes the ticket silently
	// and confirms, saying what stopped, where the channel allows.
	ActionOptOut = "opt_out"
	// ActionCategorize sets the category and priority.
	ActionCategorize = "categorize"
	// ActionConsent records Decision for the transfer's purposes when the
	// message answers a consent request.
	ActionConsent = "consent"
)

// Rule is one classification rule. Rules run in Ordinal order on every
// inbound message and the first enabled one that matches (and applies)
// acts.
type Rule struct {
	ID       string
	Ordinal  int
	Name     string
	Keywords []string
	Match    string // exact | contains
	Action   string // opt_out | categorize | consent
	Category string
	Priority string // categorize: the ticket's priority ("" keeps normal)
	Decision string // consent: granted | declined
	Enabled  bool
}

// Normalize prepares text for matching: full-width letters and digits
// folded to their narrow forms, lower case, surrounding space and
// punctuation trimmed ("ＴＤ。" matches "td").
func Normalize(text string) string {
	text = strings.ToLower(width.Fold.String(text))
	return strings.TrimFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r)
	})
}

// Matches reports whether normalized text (see Normalize) matches the rule.
func (r *Rule) Matches(normalized string) bool {
	if !r.Enabled || normalized == "" {
		return false
	}
	for _, k := range r.Keywords {
		k = Normalize(k)
		if k == "" {
			continue
		}
		if r.Match == MatchExact && normalized == k || r.Match == MatchContains && strings.Contains(normalized, k) {
			return true
		}
	}
	return false
}

// validate checks and tidies a rule.
func (r *Rule) validate() error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		return handover.Errorf(handover.EINVALID, "name is required (at most 100 characters)")
	}
	var kws []string
	for _, k := range r.Keywords {
		if k = strings.TrimSpace(k); k != "" && !slices.Contains(kws, k) {
			if utf8.RuneCountInString(k) > 100 {
				return handover.Errorf(handover.EINVALID, "a keyword may be at most 100 characters")
			}
			kws = append(kws, k)
		}
	}
	if len(kws) == 0 || len(kws) > 100 {
		return handover.Errorf(handover.EINVALID, "keywords must list 1 to 100 keywords")
	}
	r.Keywords = kws
	if r.Match != MatchExact && r.Match != MatchContains {
		return handover.Errorf(handover.EINVALID, "match must be exact or contains")
	}
	switch r.Action {
	case ActionOptOut:
		r.Category, r.Priority, r.Decision = CategoryOptOut, "", ""
	case ActionConsent:
		if r.Decision != "granted" && r.Decision != "declined" {
			return handover.Errorf(handover.EINVALID, "a consent rule's decision must be granted or declined")
		}
		r.Category, r.Priority = CategoryConsent, ""
	case ActionCategorize:
		if err := checkCategory(r.Category); err != nil {
			return err
		}
		if r.Priority == "" {
			r.Priority = PriorityNormal
		}
		if err := checkPriority(r.Priority); err != nil {
			return err
		}
		r.Decision = ""
	default:
		return handover.Errorf(handover.EINVALID, "action must be opt_out, categorize or consent")
	}
	return nil
}

func checkCategory(c string) error {
	if c == "" || len(c) > 40 || strings.IndexFunc(c, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
	}) >= 0 {
		return handover.Errorf(handover.EINVALID, "category must be 1 to 40 characters of a-z, 0-9 and _")
	}
	return nil
}

func checkPriority(p string) error {
	switch p {
	case PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent:
		return nil
	}
	return handover.Errorf(handover.EINVALID, "priority must be low, normal, high or urgent")
}

const ruleColumns = `id, ordinal, name, keywords, match_mode, action, category, priority, decision, enabled`

// FindRules returns every rule in the order they run.
func (s *Service) FindRules(ctx context.Context) ([]Rule, error) {
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (Rule, error) {
		var r Rule
		var kws string
		if err := row.Scan(&r.ID, &r.Ordinal, &r.Name, &kws, &r.Match, &r.Action, &r.Category, &r.Priority, &r.Decision, &r.Enabled); err != nil {
			return r, err
		}
		if err := json.Unmarshal([]byte(kws), &r.Keywords); err != nil {
			return r, fmt.Errorf("rule %s keywords are malformed", r.ID)
		}
		return r, nil
	}, `SELECT `+ruleColumns+` FROM ticket_rules ORDER BY ordinal, id`)
	if err != nil {
		return nil, fmt.Errorf("find rules: %w", err)
	}
	return out, nil
}

// SaveRule creates the rule (ID "") or replaces the one with r.ID, and
// audits it.
func (s *Service) SaveRule(ctx context.Context, r *Rule, actor string) error {
	if err := r.validate(); err != nil {
		return err
	}
	kws, _ := json.Marshal(r.Keywords)
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		action := "ticket_rule.update"
		if r.ID == "" {
			r.ID, action = ulid.Make().String(), "ticket_rule.create"
			_, err := tx.ExecContext(ctx, `INSERT INTO ticket_rules (`+ruleColumns+`, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
				r.ID, r.Ordinal, r.Name, string(kws), r.Match, r.Action, r.Category, r.Priority, r.Decision, r.Enabled, tx.Now)
			if err != nil {
				return fmt.Errorf("create rule: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE ticket_rules SET ordinal = $1, name = $2, keywords = $3, match_mode = $4, action = $5,
				category = $6, priority = $7, decision = $8, enabled = $9, updated_at = $10 WHERE id = $11`,
				r.Ordinal, r.Name, string(kws), r.Match, r.Action, r.Category, r.Priority, r.Decision, r.Enabled, tx.Now, r.ID)
			if err != nil {
				return fmt.Errorf("update rule: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return handover.Errorf(handover.ENOTFOUND, "Rule not found.")
			}
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ObjectType: "ticket_rule", ObjectID: r.ID, Detail: r.Action})
	})
}

// DeleteRule deletes a rule and audits it.
func (s *Service) DeleteRule(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ticket_rules WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete rule: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Rule not found.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "ticket_rule.delete", ObjectType: "ticket_rule", ObjectID: id})
	})
}
