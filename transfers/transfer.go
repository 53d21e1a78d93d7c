// Package transfers holds the transfer: who sells, who buys, when, for
// which purposes and which data. Every other package names it: consent is
// given per purpose of a transfer, campaigns and links carry one, the
// export and the destruction act on one.
package transfers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// Store reads and writes transfers.
type Store struct {
	db *database.DB
}

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store {
	return &Store{db: db}
}

// DataCategories are the kinds of customer data a transfer may hand over.
var DataCategories = []string{"name", "phone", "email", "wechat_openid", "company", "address", "region", "tags"}

// Transfer records who sells, who buys, when, for which purposes and which
// data: what customers are told in the transfer notice (PIPL Art. 22).
type Transfer struct {
	ID             string
	SellerName     string
	BuyerName      string
	BuyerContact   string
	EffectiveDate  string // YYYY-MM-DD
	Purposes       []string
	DataCategories []string
	RetentionDays  int
	CreatedBy      string
	CreatedAt      time.Time
}

// validate checks t and tidies its text fields in place.
func (t *Transfer) validate() error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"seller_name", &t.SellerName, 200}, {"buyer_name", &t.BuyerName, 200}, {"buyer_contact", &t.BuyerContact, 500}} {
		*f.v = strings.TrimSpace(*f.v)
		if *f.v == "" {
			return handover.Errorf(handover.EINVALID, "%s is required", f.name)
		}
		if utf8.RuneCountInString(*f.v) > f.max {
			return handover.Errorf(handover.EINVALID, "%s must be at most %d characters", f.name, f.max)
		}
	}
	t.EffectiveDate = strings.TrimSpace(t.EffectiveDate)
	if _, err := time.Parse(time.DateOnly, t.EffectiveDate); err != nil {
		return handover.Errorf(handover.EINVALID, "effective_date must be a date written YYYY-MM-DD")
	}
	purposes, err := cleanList("purposes", t.Purposes)
	if err != nil {
		return err
	}
	if len(purposes) == 0 {
		return handover.Errorf(handover.EINVALID, "purposes must name at least one purpose")
	}
	t.Purposes = purposes
	cats, err := cleanList("data_categories", t.DataCategories)
	if err != nil {
		return err
	}
	if len(cats) == 0 {
		return handover.Errorf(handover.EINVALID, "data_categories must name at least one of %s", strings.Join(DataCategories, ", "))
	}
	for i, c := range cats {
		cats[i] = strings.ToLower(c)
		if !slices.Contains(DataCategories, cats[i]) {
			return handover.Errorf(handover.EINVALID, "data_categories: %q is not one of %s", handover.Clip(c, 40), strings.Join(DataCategories, ", "))
		}
	}
	t.DataCategories = cats
	if t.RetentionDays < 1 || t.RetentionDays > 3650 {
		return handover.Errorf(handover.EINVALID, "retention_days must be between 1 and 3650")
	}
	return nil
}

// cleanList trims items, drops empty and repeated ones, and refuses commas
// (lists are stored comma-separated).
func cleanList(name string, items []string) ([]string, error) {
	var out []string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if strings.Contains(it, ",") || utf8.RuneCountInString(it) > 200 {
			return nil, handover.Errorf(handover.EINVALID, "%s: each item must be at most 200 characters without commas", name)
		}
		out = append(out, it)
	}
	return out, nil
}

// CreateTransfer validates and stores t, setting its ID, CreatedBy and
// CreatedAt, and audits it.
func (s *Store) CreateTransfer(ctx context.Context, t *Transfer, actor string) error {
	if err := t.validate(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		t.ID, t.CreatedBy, t.CreatedAt = ulid.Make().String(), actor, tx.Now
		_, err := tx.ExecContext(ctx, `INSERT INTO transfers (id, seller_name, buyer_name, buyer_contact, effective_date,
			purposes, data_categories, retention_days, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			t.ID, t.SellerName, t.BuyerName, t.BuyerContact, t.EffectiveDate,
			strings.Join(t.Purposes, ","), strings.Join(t.DataCategories, ","), t.RetentionDays, t.CreatedBy, t.CreatedAt)
		if err != nil {
			return fmt.Errorf("create transfer: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "transfer.create", ObjectType: "transfer", ObjectID: t.ID,
			Detail: fmt.Sprintf("effective=%s categories=%s retention_days=%d", t.EffectiveDate, strings.Join(t.DataCategories, ","), t.RetentionDays)})
	})
}

// FindTransferByID returns a transfer or an ENOTFOUND error.
func (s *Store) FindTransferByID(ctx context.Context, id string) (*Transfer, error) {
	return s.findTransferByID(ctx, s.db, id)
}

// FindTransferByIDTx is FindTransferByID inside the caller's transaction.
func (s *Store) FindTransferByIDTx(ctx context.Context, tx *database.Tx, id string) (*Transfer, error) {
	return s.findTransferByID(ctx, tx, id)
}

func (s *Store) findTransferByID(ctx context.Context, q database.Querier, id string) (*Transfer, error) {
	var t Transfer
	var purposes, cats string
	err := q.QueryRowContext(ctx, `SELECT id, seller_name, buyer_name, buyer_contact, effective_date, purposes,
		data_categories, retention_days, created_by, created_at FROM transfers WHERE id = $1`, id).Scan(
		&t.ID, &t.SellerName, &t.BuyerName, &t.BuyerContact, &t.EffectiveDate, &purposes, &cats, &t.RetentionDays, &t.CreatedBy, &t.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Transfer not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find transfer: %w", err)
	}
	t.Purposes, t.DataCategories, t.CreatedAt = strings.Split(purposes, ","), strings.Split(cats, ","), t.CreatedAt.UTC()
	return &t, nil
}
