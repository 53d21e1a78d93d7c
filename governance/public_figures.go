package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/incidents"
)

// RightsFigures are the rights requests handled, for the public report.
type RightsFigures struct {
	// CorrectionsHandled counts correction requests decided (approved or
	// rejected).
	CorrectionsHandled Figure
	// CorrectionMedian is the median time from request to decision; zero
	// when CorrectionsHandled is zero or suppressed (a median of a few
	// requests would describe those few).
	CorrectionMedian time.Duration
	// Complaints received and resolved (tickets of category complaint).
	ComplaintsReceived Figure
	ComplaintsResolved Figure
}

// HandoverFigures describe what was handed over to the buyer and what of
// the seller's copy was destroyed.
type HandoverFigures struct {
	// Exports counts packages handed over; Customers is the number of
	// customers in the latest one, Fields its data categories.
	Exports   Figure
	Customers Figure
	Fields    []string
	// DestructionsCompleted counts completed destruction plans;
	// Destroyed the customers they destroyed; DestroyedOn the date of the
	// latest, "" when none.
	DestructionsCompleted Figure
	Destroyed             Figure
	DestroyedOn           string
}

// MedianText renders the median handling time in hours or days, "—"
// when it is not shown.
func (r RightsFigures) MedianText() string {
	switch d := r.CorrectionMedian; {
	case d <= 0:
		return "—"
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f d", d.Hours()/24)
	}
}

// rightsFigures counts corrections and complaints.
func (s *Service) rightsFigures(ctx context.Context) (RightsFigures, error) {
	var r RightsFigures
	took, err := database.QueryAll(ctx, s.db, func(row database.Scanner) (time.Duration, error) {
		var created, decided time.Time
		err := row.Scan(&created, &decided)
		return decided.Sub(created), err
	}, `SELECT created_at, decided_at FROM correction_requests
		WHERE status IN ('approved', 'rejected') AND decided_at IS NOT NULL`)
	if err != nil {
		return r, fmt.Errorf("public report: %w", err)
	}
	r.CorrectionsHandled = figure(len(took))
	if len(took) >= SmallCount {
		slices.Sort(took)
		r.CorrectionMedian = took[len(took)/2]
		if len(took)%2 == 0 {
			r.CorrectionMedian = (took[len(took)/2-1] + took[len(took)/2]) / 2
		}
	}
	var received, resolved int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(resolved_at) FROM tickets WHERE category = 'complaint' AND status <> 'merged'`).
		Scan(&received, &resolved); err != nil {
		return r, fmt.Errorf("public report: %w", err)
	}
	r.ComplaintsReceived, r.ComplaintsResolved = figure(received), figure(resolved)
	return r, nil
}

// handoverFigures reads the exports from the audit log and the completed
// destruction plans of the transfer.
func (s *Service) handoverFigures(ctx context.Context, transferID string) (HandoverFigures, error) {
	var h HandoverFigures
	started := map[string][]string{} // export id → fields
	exports, latest := 0, 0
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var action, detail string
		if err := row.Scan(&action, &detail); err != nil {
			return err
		}
		var d struct {
			Export    string   `json:"export"`
			Fields    []string `json:"fields"`
			Customers int      `json:"customers"`
		}
		if json.Unmarshal([]byte(detail), &d) != nil {
			return nil
		}
		if action == "transfer.export.start" {
			started[d.Export] = d.Fields
			return nil
		}
		exports++
		latest, h.Fields = d.Customers, started[d.Export]
		return nil
	}, `SELECT action, detail FROM audit_log WHERE object_type = 'transfer' AND object_id = $1
		AND action IN ('transfer.export.start', 'transfer.export') ORDER BY seq`, transferID)
	if err != nil {
		return h, fmt.Errorf("public report: %w", err)
	}
	h.Exports, h.Customers = figure(exports), figure(latest)
	completed, destroyed := 0, 0
	err = database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var n int
		var at sql.NullTime
		if err := row.Scan(&n, &at); err != nil {
			return err
		}
		completed, destroyed = completed+1, destroyed+n
		if at.Valid {
			h.DestroyedOn = at.Time.UTC().Format("2006-01-02")
		}
		return nil
	}, `SELECT destroyed_count, completed_at FROM destruction_plans
		WHERE transfer_id = $1 AND status = 'completed' ORDER BY completed_at`, transferID)
	if err != nil {
		return h, fmt.Errorf("public report: %w", err)
	}
	h.DestructionsCompleted, h.Destroyed = figure(completed), figure(destroyed)
	return h, nil
}

// incidentFigures counts incidents by status (open, contained, closed).
func (s *Service) incidentFigures(ctx context.Context) (map[string]Figure, error) {
	out := map[string]Figure{}
	for _, st := range []incidents.Status{incidents.StatusOpen, incidents.StatusContained, incidents.StatusClosed} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE status = $1`, st).Scan(&n); err != nil {
			return nil, fmt.Errorf("public report: %w", err)
		}
		out[st.String()] = figure(n)
	}
	return out, nil
}
