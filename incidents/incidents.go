// Package incidents records personal-information incidents (PIPL Art. 57,
// 应急响应): what data, which customers, the cause, the measures and who
// to contact, with a timeline; it counts the people affected for the
// notice campaign and the regulator's report.
package incidents

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// Status is where an incident stands.
type Status string

// Statuses an incident moves through. The values are the ones stored and
// the API shows.
const (
	StatusOpen      Status = "open"
	StatusContained Status = "contained"
	StatusClosed    Status = "closed"
)

// String returns the status as stored.
func (s Status) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s Status) Key() string { return "incident.status_" + string(s) }

// Incident is one personal-information incident.
type Incident struct {
	ID             string    `json:"id"`
	Title          string    `json:"title"`
	DataCategories []string  `json:"data_categories"`
	Cause          string    `json:"cause"`
	Measures       string    `json:"measures"`
	Contact        string    `json:"contact"`
	Status         Status    `json:"status"`
	OccurredAt     time.Time `json:"occurred_at"`
	DiscoveredAt   time.Time `json:"discovered_at"`
	NoticeCampaign string    `json:"notice_campaign,omitempty"`
	Affected       int       `json:"affected"`
	CreatedBy      string    `json:"created_by"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Timeline       []Event   `json:"timeline,omitempty"`
}

// Event is one step of the incident's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	Kind  string    `json:"kind"` // recorded | status | measure | notice | report
	Note  string    `json:"note"`
}

// Store reads and writes incidents.
type Store struct{ db *database.DB }

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

func (in *Incident) validate() error {
	for _, f := range []struct {
		name string
		v    *string
	}{{"title", &in.Title}, {"cause", &in.Cause}, {"measures", &in.Measures}, {"contact", &in.Contact}} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			return handover.Errorf(handover.EINVALID, "An incident needs its %s.", f.name)
		}
		if len(*f.v) > 20_000 {
			return handover.Errorf(handover.ETOOLARGE, "%s is too long (20 KB at most).", f.name)
		}
	}
	if len(in.DataCategories) == 0 {
		return handover.Errorf(handover.EINVALID, "Name the data categories involved (data_categories).")
	}
	for _, c := range in.DataCategories {
		if !slices.Contains(transfers.DataCategories, c) {
			return handover.Errorf(handover.EINVALID, "Unknown data category %q; use %s.", c, strings.Join(transfers.DataCategories, ", "))
		}
	}
	if in.OccurredAt.IsZero() || in.DiscoveredAt.IsZero() || in.DiscoveredAt.Before(in.OccurredAt) {
		return handover.Errorf(handover.EINVALID, "occurred_at and discovered_at are required, and discovery cannot come before the incident.")
	}
	return nil
}

// Record stores a new incident with the ids of the affected customers
// (unknown ids are an error: the count goes to the regulator).
func (s *Store) Record(ctx context.Context, in *Incident, customerIDs []string, actor string) error {
	if err := in.validate(); err != nil {
		return err
	}
	slices.Sort(customerIDs)
	customerIDs = slices.Compact(customerIDs)
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		in.ID, in.Status, in.CreatedBy, in.CreatedAt, in.UpdatedAt = ulid.Make().String(), StatusOpen, actor, tx.Now, tx.Now
		in.OccurredAt, in.DiscoveredAt = in.OccurredAt.UTC(), in.DiscoveredAt.UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, title, data_categories, cause, measures, contact, status, occurred_at,
			discovered_at, created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)`,
			in.ID, in.Title, strings.Join(in.DataCategories, ","), in.Cause, in.Measures, in.Contact, in.Status, in.OccurredAt, in.DiscoveredAt, actor, tx.Now); err != nil {
			return fmt.Errorf("record incident: %w", err)
		}
		for _, id := range customerIDs {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE id = $1`, id).Scan(&n); err != nil {
				return fmt.Errorf("record incident: %w", err)
			}
			if n == 0 {
				return handover.Errorf(handover.EINVALID, "Customer %s does not exist.", id)
			}
		}
		err := database.InsertRows(ctx, tx, "incident_customers", []string{"incident_id", "customer_id"}, "", len(customerIDs),
			func(i int, dst []any) []any { return append(dst, in.ID, customerIDs[i]) })
		if err != nil {
			return fmt.Errorf("record incident: %w", err)
		}
		in.Affected = len(customerIDs)
		return s.event(ctx, tx, in.ID, actor, "recorded", fmt.Sprintf("%d customers affected", in.Affected))
	})
}

// event appends to the timeline and the audit log in tx.
func (s *Store) event(ctx context.Context, tx *database.Tx, id, actor, kind, note string) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO incident_events (id, incident_id, at, actor, kind, note) VALUES ($1, $2, $3, $4, $5, $6)`,
		ulid.Make().String(), id, tx.Now, actor, kind, note); err != nil {
		return fmt.Errorf("incident timeline: %w", err)
	}
	return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "incident." + kind, ObjectType: "incident", ObjectID: id})
}

// AddEvent records a step (a measure taken, a notice sent, the report
// filed) and, for kind "status", moves the incident to note's status.
func (s *Store) AddEvent(ctx context.Context, id, kind, note, actor string) error {
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 20_000 {
		return handover.Errorf(handover.EINVALID, "A timeline entry needs a note (20 KB at most).")
	}
	switch kind {
	case "measure", "notice", "report":
	case "status":
		if st := Status(note); st != StatusOpen && st != StatusContained && st != StatusClosed {
			return handover.Errorf(handover.EINVALID, "Status must be open, contained or closed.")
		}
	default:
		return handover.Errorf(handover.EINVALID, "kind must be measure, notice, report or status.")
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		q, args := `UPDATE incidents SET updated_at = $1 WHERE id = $2`, []any{tx.Now, id}
		if kind == "status" {
			q, args = `UPDATE incidents SET updated_at = $1, status = $3 WHERE id = $2`, append(args, note)
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("incident event: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Incident not found.")
		}
		return s.event(ctx, tx, id, actor, kind, note)
	})
}

// SetNoticeCampaign links the campaign that notifies affected customers;
// an incident linked to another campaign already is an ECONFLICT.
func (s *Store) SetNoticeCampaign(ctx context.Context, id, campaignID, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if err := linkNotice(ctx, tx, id, campaignID); err != nil {
			return err
		}
		return s.event(ctx, tx, id, actor, "notice", "notice campaign "+campaignID+" drafted")
	})
}

// AffectedCustomers returns the ids of the customers affected.
func (s *Store) AffectedCustomers(ctx context.Context, id string) ([]string, error) {
	return s.db.QueryIDs(ctx, `SELECT customer_id FROM incident_customers WHERE incident_id = $1 ORDER BY customer_id`, id)
}

// FindIncidentByID returns the incident with its timeline.
func (s *Store) FindIncidentByID(ctx context.Context, id string) (*Incident, error) {
	var in Incident
	var cats string
	err := s.db.QueryRowContext(ctx, `SELECT id, title, data_categories, cause, measures, contact, status, occurred_at, discovered_at,
		notice_campaign, created_by, created_at, updated_at, (SELECT COUNT(*) FROM incident_customers WHERE incident_id = incidents.id)
		FROM incidents WHERE id = $1`, id).Scan(&in.ID, &in.Title, &cats, &in.Cause, &in.Measures, &in.Contact, &in.Status, &in.OccurredAt,
		&in.DiscoveredAt, &in.NoticeCampaign, &in.CreatedBy, &in.CreatedAt, &in.UpdatedAt, &in.Affected)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Incident not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find incident: %w", err)
	}
	in.DataCategories = strings.Split(cats, ",")
	in.Timeline, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (Event, error) {
		var e Event
		err := row.Scan(&e.At, &e.Actor, &e.Kind, &e.Note)
		return e, err
	}, `SELECT at, actor, kind, note FROM incident_events WHERE incident_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, fmt.Errorf("find incident: %w", err)
	}
	return &in, nil
}

// FindIncidentByNoticeCampaign returns the incident whose notice campaign
// is campaignID (without its timeline): what an incident notice's link
// opens. It is ENOTFOUND for any other campaign.
func (s *Store) FindIncidentByNoticeCampaign(ctx context.Context, campaignID string) (*Incident, error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM incidents WHERE notice_campaign = $1 AND notice_campaign <> ''`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("find incident by notice: %w", err)
	}
	if len(ids) == 0 {
		return nil, handover.Errorf(handover.ENOTFOUND, "Incident not found.")
	}
	in, err := s.FindIncidentByID(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	in.Timeline = nil
	return in, nil
}

// FindIncidents lists up to limit incidents, newest first (without
// timelines), older than cursor (the next cursor of the previous page; ""
// for the first). next is "" on the last page.
func (s *Store) FindIncidents(ctx context.Context, cursor string, limit int) (list []*Incident, next string, err error) {
	ids, err := s.db.QueryIDs(ctx, `SELECT id FROM incidents WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT `+fmt.Sprint(limit+1), cursor)
	if err != nil {
		return nil, "", fmt.Errorf("list incidents: %w", err)
	}
	ids, next = database.Page(ids, limit, func(id string) string { return id })
	out := make([]*Incident, 0, len(ids))
	for _, id := range ids {
		in, err := s.FindIncidentByID(ctx, id)
		if err != nil {
			return nil, "", err
		}
		in.Timeline = nil
		out = append(out, in)
	}
	return out, next, nil
}
