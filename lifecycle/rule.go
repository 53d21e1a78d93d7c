// Package lifecycle is the end of the seller's copy of the customer list:
// the buyer's encrypted handover package, encrypted backups that never
// hold customer data keys, and the approved, reported destruction of what
// the seller keeps.
package lifecycle

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// Consent rules: which granted purposes make a customer part of the
// buyer's package.
const (
	RuleAll = "all" // every listed purpose granted (the default)
	RuleAny = "any" // at least one listed purpose granted
)

// Rule selects the customers who may move to the buyer.
type Rule struct {
	Mode string // all | any; "" is all
	// Purposes the rule looks at; empty means all the transfer's purposes.
	Purposes []string
}

// resolve checks r against the transfer and fills its defaults.
func (r Rule) resolve(t *transfers.Transfer) (Rule, error) {
	switch r.Mode {
	case "":
		r.Mode = RuleAll
	case RuleAll, RuleAny:
	default:
		return r, handover.Errorf(handover.EINVALID, "Consent rule must be all or any.")
	}
	if len(r.Purposes) == 0 {
		r.Purposes = t.Purposes
		return r, nil
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range r.Purposes {
		p = strings.TrimSpace(p)
		if p == "" || seen[p] {
			continue
		}
		if !slices.Contains(t.Purposes, p) {
			return r, handover.Errorf(handover.EINVALID, "Purpose %q is not one of the transfer's purposes.", handover.Clip(p, 60))
		}
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return r, handover.Errorf(handover.EINVALID, "The consent rule needs at least one purpose.")
	}
	r.Purposes = out
	return r, nil
}

// selectSQL is the query for one page of the rule's customers, in id
// order after the cursor ($2), at most limit (0: all): customers (not erased) with granted state
// for enough of the purposes ($3…).
func (r Rule) selectSQL(limit int) (string, []any) {
	// The purposes come after the caller's transfer ($1) and cursor ($2).
	purposes, args := database.In(make([]any, 2), r.Purposes)
	need := 1
	if r.Mode == RuleAll {
		need = len(r.Purposes)
	}
	// Walking customers in id order and probing consent_state by its
	// primary key keeps every page cheap: a GROUP BY over consent_state
	// would be planned on the decision index and sorted again per page.
	q := `SELECT c.id FROM customers c WHERE c.id > $2 AND c.status <> 'erased'
		AND (SELECT COUNT(*) FROM consent_state cs WHERE cs.customer_id = c.id AND cs.transfer_id = $1
			AND cs.decision = 'granted' AND cs.purpose IN ` + purposes + `) >= ` + fmt.Sprint(need) + `
		ORDER BY c.id`
	if limit > 0 {
		q += ` LIMIT ` + fmt.Sprint(limit)
	}
	return q, args[2:]
}

// Counts is what a dry run shows: how many customers each rule would hand
// over, and how many granted each purpose.
type Counts struct {
	TransferID string         `json:"transfer_id"`
	Customers  int            `json:"customers"` // not erased
	All        int            `json:"all"`       // every purpose granted
	Any        int            `json:"any"`       // at least one granted
	Granted    map[string]int `json:"granted"`   // per purpose
	Selected   int            `json:"selected"`  // by the requested rule
	Rule       string         `json:"rule"`
	Purposes   []string       `json:"purposes"`
}

// count runs a one-number query.
func (e *Exporter) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	if err := e.db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}
