package governance

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/handoverhq/handover/database"
)

// AccessFilter selects access entries for the auditors' report.
type AccessFilter struct {
	Actor    string // "staff:ID"; empty for everyone
	From, To time.Time
	Limit    int // default 1000, at most 10,000
}

// AccessEntry is one reveal or export of personal data.
type AccessEntry struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	Actor      string    `json:"actor"`
	Kind       string    `json:"kind"` // reveal | export
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   string    `json:"object_id"`
	Reason     string    `json:"reason"`
	// Flags: "volume" (this actor did far more than peers in the
	// period), "hours" (outside 07:00–21:00 or at a weekend, local time).
	Flags []string `json:"flags"`
}

// AccessReport lists who revealed or exported which customer's data,
// when and why, with anomaly flags.
func (s *Service) AccessReport(ctx context.Context, f AccessFilter) ([]AccessEntry, error) {
	if f.Limit <= 0 || f.Limit > 10_000 {
		f.Limit = 1000
	}
	if f.To.IsZero() {
		f.To = s.db.Now()
	}
	if f.From.IsZero() {
		f.From = f.To.Add(-s.cfg.ReviewEvery)
	}
	actions := append(slices.Clone(revealActions), exportActions...)
	in, args := database.In([]any{f.From, f.To}, actions)
	q := `SELECT seq, at, actor, action, object_type, object_id, detail FROM audit_log
		WHERE at >= $1 AND at <= $2 AND action IN ` + in
	if f.Actor != "" {
		q += fmt.Sprintf(` AND actor = $%d`, len(args)+1)
		args = append(args, f.Actor)
	}
	perActor := map[string]int{}
	out, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (AccessEntry, error) {
		var e AccessEntry
		var detail string
		if err := row.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &detail); err != nil {
			return e, err
		}
		e.At = e.At.UTC()
		e.Kind = "export"
		if slices.Contains(revealActions, e.Action) {
			e.Kind = "reveal"
		}
		var d struct {
			Reason string `json:"reason"`
		}
		if json.Unmarshal([]byte(detail), &d) == nil {
			e.Reason = d.Reason
		}
		if s.unusualHour(e.At) {
			e.Flags = append(e.Flags, "hours")
		}
		perActor[e.Actor]++
		return e, nil
	}, q+fmt.Sprintf(` ORDER BY seq DESC LIMIT %d`, f.Limit), args...)
	if err != nil {
		return nil, fmt.Errorf("access report: %w", err)
	}
	heavy := heavyActors(perActor)
	for i := range out {
		if heavy[out[i].Actor] {
			out[i].Flags = append(out[i].Flags, "volume")
		}
	}
	return out, nil
}

func (s *Service) unusualHour(t time.Time) bool {
	local := t.In(s.cfg.Location)
	h, wd := local.Hour(), local.Weekday()
	return h < 7 || h >= 21 || wd == time.Saturday || wd == time.Sunday
}

// heavyActors flags actors with at least 10 accesses and more than three
// times the median of all actors in the period.
func heavyActors(counts map[string]int) map[string]bool {
	if len(counts) < 2 {
		return nil
	}
	var all []int
	for _, n := range counts {
		all = append(all, n)
	}
	slices.Sort(all)
	median := all[len(all)/2]
	if len(all)%2 == 0 {
		median = (all[len(all)/2-1] + all[len(all)/2]) / 2
	}
	heavy := map[string]bool{}
	for a, n := range counts {
		if n >= 10 && n > 3*median {
			heavy[a] = true
		}
	}
	return heavy
}

// WriteAccessCSV writes the report as CSV for auditors' spreadsheets.
func WriteAccessCSV(w io.Writer, entries []AccessEntry) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "at", "actor", "kind", "action", "object_type", "object_id", "reason", "flags"})
	for _, e := range entries {
		_ = cw.Write([]string{fmt.Sprint(e.Seq), e.At.Format(time.RFC3339), csvSafe(e.Actor), csvSafe(e.Kind), csvSafe(e.Action),
			csvSafe(e.ObjectType), csvSafe(e.ObjectID), csvSafe(e.Reason), strings.Join(e.Flags, " ")})
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe stops a reason typed by staff from running as a formula when
// the CSV is opened in a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
