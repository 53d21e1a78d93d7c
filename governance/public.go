package governance

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// SmallCount is the smallest count a public report shows; smaller
// non-zero counts are suppressed, so no figure points at a few people.
const SmallCount = 5

// Figure is a count as the public may see it.
type Figure struct {
	Value      int
	Suppressed bool // 1 to SmallCount-1: shown as "<5"
}

func figure(n int) Figure {
	if n > 0 && n < SmallCount {
		return Figure{Suppressed: true}
	}
	return Figure{Value: n}
}

// String renders the figure for a page.
func (f Figure) String() string {
	if f.Suppressed {
		return fmt.Sprintf("<%d", SmallCount)
	}
	return fmt.Sprint(f.Value)
}

// PublicReport summarises one transfer for the public: aggregate figures
// only, from the ledger and the audit log, never anything about a person.
type PublicReport struct {
	Slug           string
	SellerName     string
	BuyerName      string
	BuyerContact   string
	EffectiveDate  string
	Purposes       []string
	DataCategories []string
	PeriodStart    time.Time
	GeneratedAt    time.Time
	// NotifiedByChannel counts customers a message reached, per channel.
	NotifiedByChannel map[string]Figure
	ConsentGranted    Figure
	ConsentDeclined   Figure
	ConsentWithdrawn  Figure
	// Rights requests handled, what was handed over and destroyed, and
	// incidents by status (open, contained, closed).
	Rights    RightsFigures
	Handover  HandoverFigures
	Incidents map[string]Figure
}

// EnablePublicReport publishes the transfer's report at a stable slug
// (the same slug when enabled again).
func (s *Service) EnablePublicReport(ctx context.Context, transferID, actor string) (string, error) {
	var slug string
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT slug FROM public_reports WHERE transfer_id = $1`, transferID).Scan(&slug)
		if err == nil {
			return nil
		} else if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("enable public report: %w", err)
		}
		slug = rand.Text()[:12]
		if _, err := tx.ExecContext(ctx, `INSERT INTO public_reports (slug, transfer_id, enabled_by, enabled_at) VALUES ($1, $2, $3, $4)`,
			slug, transferID, actor, tx.Now); err != nil {
			if handover.ErrorCode(database.MapError(err)) == handover.EINVALID {
				return handover.Errorf(handover.ENOTFOUND, "Transfer not found.")
			}
			return fmt.Errorf("enable public report: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "public_report.enable", ObjectType: "transfer", ObjectID: transferID, Detail: "slug=" + slug})
	})
	return slug, err
}

// DisablePublicReport takes the report down.
func (s *Service) DisablePublicReport(ctx context.Context, transferID, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM public_reports WHERE transfer_id = $1`, transferID)
		if err != nil {
			return fmt.Errorf("disable public report: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "This transfer has no public report.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "public_report.disable", ObjectType: "transfer", ObjectID: transferID})
	})
}

// FindPublicReport builds the report published at slug, or ENOTFOUND.
func (s *Service) FindPublicReport(ctx context.Context, slug string) (*PublicReport, error) {
	r := &PublicReport{Slug: slug, GeneratedAt: s.db.Now(), NotifiedByChannel: map[string]Figure{}}
	var transferID, purposes, cats string
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.seller_name, t.buyer_name, t.buyer_contact, t.effective_date, t.purposes,
		t.data_categories, t.created_at FROM public_reports p JOIN transfers t ON t.id = p.transfer_id WHERE p.slug = $1`, slug).Scan(
		&transferID, &r.SellerName, &r.BuyerName, &r.BuyerContact, &r.EffectiveDate, &purposes, &cats, &r.PeriodStart)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "This report is not published.")
	} else if err != nil {
		return nil, fmt.Errorf("public report: %w", err)
	}
	r.Purposes, r.DataCategories = splitList(purposes), splitList(cats)
	err = database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var ch string
		var n int
		if err := row.Scan(&ch, &n); err != nil {
			return err
		}
		r.NotifiedByChannel[ch] = figure(n)
		return nil
	}, `SELECT d.channel, COUNT(DISTINCT d.customer_id) FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE c.transfer_id = $1 AND d.status IN ('sent', 'delivered') GROUP BY d.channel`, transferID)
	if err != nil {
		return nil, fmt.Errorf("public report: %w", err)
	}
	// A customer counts once per decision however many purposes they
	// decided: the figures are people, not rows.
	for _, c := range []struct {
		decision string
		dst      *Figure
	}{{"granted", &r.ConsentGranted}, {"declined", &r.ConsentDeclined}, {"withdrawn", &r.ConsentWithdrawn}} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT customer_id) FROM consent_state WHERE transfer_id = $1 AND decision = $2`,
			transferID, c.decision).Scan(&n); err != nil {
			return nil, fmt.Errorf("public report: %w", err)
		}
		*c.dst = figure(n)
	}
	if r.Rights, err = s.rightsFigures(ctx); err != nil {
		return nil, err
	}
	if r.Handover, err = s.handoverFigures(ctx, transferID); err != nil {
		return nil, err
	}
	if r.Incidents, err = s.incidentFigures(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// PublicReportSlugs maps each transfer with a published report to its slug.
func (s *Service) PublicReportSlugs(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var t, slug string
		if err := row.Scan(&t, &slug); err != nil {
			return err
		}
		out[t] = slug
		return nil
	}, `SELECT transfer_id, slug FROM public_reports`)
	if err != nil {
		return nil, fmt.Errorf("public reports: %w", err)
	}
	return out, nil
}
