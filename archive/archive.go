// Package archive files a transfer's records once it has taken effect
// (归档): each customer is classified by their consent and given an
// archive number in the transfer's series, after which the record is
// read-only. Archived records stay searchable by number and class for the
// roles allowed, and the index exports as CSV without personal data.
package archive

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// RecordCustomer is the record type of an archived customer.
const RecordCustomer = "customer"

// Classes a customer is filed under, by their consent to the transfer.
const (
	ClassConsented  = "consented"   // granted every purpose
	ClassPartial    = "partial"     // granted some purposes
	ClassDeclined   = "declined"    // declined or withdrew everything decided
	ClassNoResponse = "no_response" // never decided
	ClassErased     = "erased"      // erased on request
)

// Record is one archived record.
type Record struct {
	RecordType     string    `json:"record_type"`
	RecordID       string    `json:"record_id"`
	TransferID     string    `json:"transfer_id"`
	ArchiveNo      string    `json:"archive_no"`
	Classification string    `json:"classification"`
	ArchivedBy     string    `json:"archived_by"`
	ArchivedAt     time.Time `json:"archived_at"`
}

// Store files and finds archived records.
type Store struct {
	db *database.DB
	// BatchSize is how many customers one transaction files (default 5,000).
	BatchSize int
}

// NewStore returns a Store on db.
func NewStore(db *database.DB) *Store { return &Store{db: db, BatchSize: 5000} }

// ArchiveCustomers files every customer not yet archived under the
// transfer, in batches, calling progress after each. It refuses before the
// transfer's effective date. Running it again files only newcomers.
func (s *Store) ArchiveCustomers(ctx context.Context, transferID, actor string, progress func(done int)) (int, error) {
	var effective string
	err := s.db.QueryRowContext(ctx, `SELECT effective_date FROM transfers WHERE id = $1`, transferID).Scan(&effective)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, handover.Errorf(handover.ENOTFOUND, "Transfer not found.")
	} else if err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	if s.db.Now().Format("2006-01-02") < effective {
		return 0, handover.Errorf(handover.ECONFLICT, "The transfer takes effect on %s; records are archived after that.", effective)
	}
	total := 0
	for {
		n, err := s.archiveBatch(ctx, transferID, actor)
		if err != nil {
			return total, err
		}
		total += n
		if progress != nil && n > 0 {
			progress(total)
		}
		if n < s.BatchSize {
			break
		}
	}
	if total > 0 {
		err = s.db.InTx(ctx, func(tx *database.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "archive.customers", ObjectType: "transfer", ObjectID: transferID,
				Detail: fmt.Sprintf("records=%d", total)})
		})
	}
	return total, err
}

// archiveBatch files up to BatchSize unarchived customers in one
// transaction: the series counter row serialises concurrent runs, so
// numbers never repeat or skip.
func (s *Store) archiveBatch(ctx context.Context, transferID, actor string) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		series, next, err := s.series(ctx, tx, transferID)
		if err != nil {
			return err
		}
		// Before the SELECT: PostgreSQL runs one statement at a time on a
		// transaction's connection.
		purposes, err := s.purposeCount(ctx, tx, transferID)
		if err != nil {
			return err
		}
		type filed struct{ id, class string }
		batch, err := database.QueryAll(ctx, tx, func(row database.Scanner) (filed, error) {
			var id, status string
			var granted, decided int
			err := row.Scan(&id, &status, &granted, &decided)
			return filed{id, classify(status, granted, decided, purposes)}, err
		}, `SELECT c.id, c.status,
			(SELECT COUNT(*) FROM consent_state cs WHERE cs.customer_id = c.id AND cs.transfer_id = $1 AND cs.decision = 'granted'),
			(SELECT COUNT(*) FROM consent_state cs WHERE cs.customer_id = c.id AND cs.transfer_id = $1)
			FROM customers c WHERE NOT EXISTS (SELECT 1 FROM archive_records a WHERE a.record_type = 'customer' AND a.record_id = c.id)
			ORDER BY c.id LIMIT `+fmt.Sprint(s.BatchSize), transferID)
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		err = database.InsertRows(ctx, tx, "archive_records",
			[]string{"record_type", "record_id", "transfer_id", "archive_no", "classification", "archived_by", "archived_at"}, "", len(batch),
			func(i int, dst []any) []any {
				return append(dst, RecordCustomer, batch[i].id, transferID, fmt.Sprintf("%s-%06d", series, next+int64(i)), batch[i].class, actor, tx.Now)
			})
		if err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE archive_series SET next_seq = $1 WHERE transfer_id = $2`, next+int64(len(batch)), transferID); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		n = len(batch)
		return nil
	})
	return n, err
}

func classify(status string, granted, decided, purposes int) string {
	switch {
	case status == "erased":
		return ClassErased
	case decided == 0:
		return ClassNoResponse
	case granted >= purposes && purposes > 0:
		return ClassConsented
	case granted > 0:
		return ClassPartial
	default:
		return ClassDeclined
	}
}

func (s *Store) purposeCount(ctx context.Context, tx *database.Tx, transferID string) (int, error) {
	var purposes string
	if err := tx.QueryRowContext(ctx, `SELECT purposes FROM transfers WHERE id = $1`, transferID).Scan(&purposes); err != nil {
		return 0, fmt.Errorf("archive: %w", err)
	}
	return len(strings.Split(purposes, ",")), nil
}

// series returns the transfer's series name and next number, creating the
// series on first use and locking its row for the transaction.
func (s *Store) series(ctx context.Context, tx *database.Tx, transferID string) (string, int64, error) {
	var series string
	var next int64
	err := tx.QueryRowContext(ctx, `UPDATE archive_series SET next_seq = next_seq WHERE transfer_id = $1 RETURNING series, next_seq`, transferID).Scan(&series, &next)
	if err == nil {
		return series, next, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("archive series: %w", err)
	}
	var count int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_series`).Scan(&count); err != nil {
		return "", 0, fmt.Errorf("archive series: %w", err)
	}
	series = fmt.Sprintf("HO-%d-%04d", tx.Now.Year(), count+1)
	if _, err := tx.ExecContext(ctx, `INSERT INTO archive_series (transfer_id, series, next_seq) VALUES ($1, $2, 1)`, transferID, series); err != nil {
		return "", 0, fmt.Errorf("archive series: %w", err)
	}
	return series, 1, nil
}

// Filter selects archived records; empty fields match everything.
type Filter struct {
	TransferID     string
	Classification string
	ArchiveNo      string // exact
	RecordID       string
	Cursor         string // archive_no to continue after
	Limit          int    // default 100, at most 1,000
}

// FindRecords lists archived records in archive-number order.
func (s *Store) FindRecords(ctx context.Context, f Filter) (list []Record, next string, err error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	where, args := []string{"1 = 1"}, []any{}
	for _, c := range []struct{ col, v string }{{"transfer_id", f.TransferID}, {"classification", f.Classification},
		{"archive_no", f.ArchiveNo}, {"record_id", f.RecordID}} {
		if c.v != "" {
			args = append(args, c.v)
			where = append(where, fmt.Sprintf("%s = $%d", c.col, len(args)))
		}
	}
	if f.Cursor != "" {
		args = append(args, f.Cursor)
		where = append(where, fmt.Sprintf("archive_no > $%d", len(args)))
	}
	list, err = database.QueryAll(ctx, s.db, func(row database.Scanner) (Record, error) {
		var r Record
		err := row.Scan(&r.RecordType, &r.RecordID, &r.TransferID, &r.ArchiveNo, &r.Classification, &r.ArchivedBy, &r.ArchivedAt)
		r.ArchivedAt = r.ArchivedAt.UTC()
		return r, err
	}, `SELECT record_type, record_id, transfer_id, archive_no, classification, archived_by, archived_at
		FROM archive_records WHERE `+strings.Join(where, " AND ")+fmt.Sprintf(` ORDER BY archive_no LIMIT %d`, f.Limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("find archive records: %w", err)
	}
	list, next = database.Page(list, f.Limit, func(r Record) string { return r.ArchiveNo })
	return list, next, nil
}

// IsArchived reports whether a record is filed (and so read-only).
func (s *Store) IsArchived(ctx context.Context, recordType, recordID string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_records WHERE record_type = $1 AND record_id = $2`, recordType, recordID).Scan(&n); err != nil {
		return false, fmt.Errorf("archive lookup: %w", err)
	}
	return n > 0, nil
}

// WriteIndex streams the transfer's archive index as CSV: number, type,
// record id, class, when and by whom. No personal data.
func (s *Store) WriteIndex(ctx context.Context, w io.Writer, transferID string) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"archive_no", "record_type", "record_id", "classification", "archived_at", "archived_by"})
	f := Filter{TransferID: transferID, Limit: 1000}
	for {
		list, next, err := s.FindRecords(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range list {
			_ = cw.Write([]string{r.ArchiveNo, r.RecordType, r.RecordID, r.Classification, r.ArchivedAt.Format(time.RFC3339), r.ArchivedBy})
		}
		cw.Flush()
		if err := cw.Error(); err != nil || next == "" {
			return err
		}
		f.Cursor = next
	}
}
