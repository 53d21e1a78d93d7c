// Package importer reads a customer file (CSV in UTF-8 or GB18030, or an
// XLSX workbook), maps its header to the customer fields, normalises each
// row and writes the customers in batches, sealed and blind-indexed as
// customers.Store keeps them. An import is bounded (rows, unzipped bytes,
// rejected first rows), recorded with its rejected rows, and counted in
// /metrics.
package importer

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Status is where an import stands.
type Status string

// Import statuses. The values are the ones stored and the API shows.
const (
	ImportPending   Status = "pending"
	ImportRunning   Status = "running"
	ImportCompleted Status = "completed"
	ImportFailed    Status = "failed"
)

// String returns the status as stored.
func (s Status) String() string { return string(s) }

// Limits on what an import keeps.
const (
	// maxStoredErrors is how many rejected-row reports an import stores;
	// all rejected rows are counted.
	maxStoredErrors = 10000
	// maxLoadedErrors is how many of them FindImportByID returns.
	maxLoadedErrors = 1000
	// interruptedFailure is the failure text of an import whose process died.
	interruptedFailure = "interrupted: run the import again"
	// heartbeatEvery is how often a running import proves it is alive;
	// staleAfter is when another process may call it interrupted.
	heartbeatEvery = 15 * time.Second
	staleAfter     = 2 * time.Minute
)

// RowError reports one rejected row: its number as a person sees it in the
// file (the header is row 1), the field, and why. It never holds the value.
type RowError struct {
	Row    int64
	Field  string
	Reason string
}

// Import is one run of a customer file import and its outcome.
type Import struct {
	ID            string
	FileName      string
	Format        string // csv | xlsx
	Status        Status
	TotalRows     int64
	ProcessedRows int64
	Created       int64
	Updated       int64
	Rejected      int64
	Failure       string
	Errors        []RowError // the first 1,000 rejected-row reports
	CreatedBy     string
	CreatedAt     time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
}

// Importer imports customer files: synchronously for the CLI (Run) or in
// the background for an upload (Start).
type Importer struct {
	db       *database.DB
	vault    *pii.Vault
	spoolDir string
	log      *slog.Logger
	wg       sync.WaitGroup

	// MaxBytes bounds an upload given to Start; beyond it Start fails with
	// ETOOLARGE. New sets 512 MiB.
	MaxBytes int64
	// MaxRows bounds a file's rows, blank ones included
	// (HANDOVER_IMPORT_MAX_ROWS); MaxUnzippedBytes what an XLSX workbook
	// expands to (HANDOVER_IMPORT_MAX_UNZIPPED_MB); RejectStop how many
	// first rows, all rejected, stop an import
	// (HANDOVER_IMPORT_REJECT_STOP). Zero means the default.
	MaxRows          int64
	MaxUnzippedBytes int64
	RejectStop       int
	// BatchSize is how many rows each transaction writes. New sets
	// 20,000 on SQLite, where every commit rewrites the index pages it
	// touched and the blind indexes touch pages at random, and 5,000 on
	// PostgreSQL.
	BatchSize int
}

// New returns an Importer into store's customers that spools uploads
// under spoolDir.
func New(store *customers.Store, spoolDir string, log *slog.Logger) *Importer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	batch := 5000
	if store.DB().Dialect == database.SQLite {
		batch = 20000
	}
	return &Importer{db: store.DB(), vault: store.Vault(), spoolDir: spoolDir, log: log, MaxBytes: 512 << 20, BatchSize: batch}
}

// Options say how to read a file; nil means the defaults.
type Options struct {
	// Mapping overrides the built-in header recognition.
	Mapping Mapping
	// Encoding is a CSV file's text encoding: EncodingAuto ("") decides
	// from the file, EncodingUTF8 or EncodingGB18030 say it. Either way a
	// row that is not valid text in it is rejected.
	Encoding string
}

// normalize validates the options, filling in the defaults.
func (o *Options) normalize() (*Options, error) {
	out := &Options{}
	if o != nil {
		*out = *o
	}
	if err := out.Mapping.validate(); err != nil {
		return nil, err
	}
	enc, err := ParseEncoding(out.Encoding)
	if err != nil {
		return nil, err
	}
	out.Encoding = enc
	return out, nil
}

// Start spools r to a private file, records a pending import and runs it in
// the background, returning at once. Wait waits for it.
func (im *Importer) Start(ctx context.Context, fileName string, r io.Reader, opts *Options, actor string) (*Import, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(im.spoolDir, 0o700); err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	f, err := os.CreateTemp(im.spoolDir, "import-*"+safeExt(fileName))
	if err != nil {
		return nil, fmt.Errorf("import spool: %w", err)
	}
	path := f.Name()
	n, err := io.Copy(f, io.LimitReader(r, im.MaxBytes+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(path)
		return nil, fmt.Errorf("import spool: %w", err)
	case n > im.MaxBytes:
		os.Remove(path)
		return nil, handover.Errorf(handover.ETOOLARGE, "the file is larger than %d MB", im.MaxBytes>>20)
	case n == 0:
		os.Remove(path)
		return nil, handover.Errorf(handover.EINVALID, "the file is empty")
	}
	imp, err := im.createImport(ctx, fileName, opts.Mapping, actor)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	// The caller gets a snapshot; the goroutine owns imp from here on.
	snapshot := *imp
	ctx = context.WithoutCancel(ctx)
	im.wg.Add(1)
	go func() {
		defer im.wg.Done()
		defer os.Remove(path)
		if _, err := im.run(ctx, imp, path, opts, nil); err != nil && handover.ErrorCode(err) == handover.EINTERNAL {
			im.log.Error("import failed", "import", imp.ID, "err", err)
		}
	}()
	return &snapshot, nil
}

// safeExt keeps a spool file's extension, which sniffing uses as a hint.
func safeExt(name string) string {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv", ".txt", ".xlsx", ".xlsm", ".xls":
		return ext
	}
	return ""
}

// Run imports the file at path synchronously, calling progress (if not nil)
// after each batch. When the file itself cannot be imported, Run returns
// the failed import together with an EINVALID error carrying its Failure.
func (im *Importer) Run(ctx context.Context, path string, opts *Options, actor string, progress func(done, total int64)) (*Import, error) {
	opts, err := opts.normalize()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); err != nil {
		return nil, handover.Errorf(handover.EINVALID, "cannot open %s", filepath.Base(path))
	}
	imp, err := im.createImport(ctx, filepath.Base(path), opts.Mapping, actor)
	if err != nil {
		return nil, err
	}
	return im.run(ctx, imp, path, opts, progress)
}

// Wait blocks until every background import has finished.
func (im *Importer) Wait() { im.wg.Wait() }

// run is one import from start to finish; it always leaves the import
// completed or failed.
func (im *Importer) run(ctx context.Context, imp *Import, path string, opts *Options, progress func(done, total int64)) (*Import, error) {
	log := im.log.With("import", imp.ID)
	if err := im.setImportRunning(ctx, imp); err != nil {
		return imp, err
	}
	stop := im.heartbeat(imp.ID, log)
	defer stop()
	started := time.Now()
	lim := im.limits()
	scan, err := scanFile(path, imp.FileName, opts, lim)
	if err == nil {
		imp.Format, imp.TotalRows = scan.Info.Format, scan.Rows
		err = im.setImportScanned(ctx, imp)
	}
	if err == nil {
		err = im.importRows(ctx, imp, path, scan, lim, progress)
	}
	if err != nil {
		failure := handover.ErrorMessage(err)
		if handover.ErrorCode(err) == handover.EINTERNAL {
			log.Error("import failed", "err", err)
			failure = "the import stopped because of an internal error; rows already reported as processed were saved"
		}
		if ferr := im.finishImport(context.WithoutCancel(ctx), imp, failure); ferr != nil {
			log.Error("record import failure", "err", ferr)
		}
		if handover.ErrorCode(err) == handover.EINTERNAL {
			return imp, err
		}
		return imp, handover.Errorf(handover.EINVALID, "%s", failure)
	}
	if err := im.finishImport(ctx, imp, ""); err != nil {
		return imp, err
	}
	log.Info("import completed", "rows", imp.ProcessedRows, "created", imp.Created, "updated", imp.Updated,
		"rejected", imp.Rejected, "seconds", time.Since(started).Seconds())
	return imp, nil
}

func (im *Importer) createImport(ctx context.Context, fileName string, m Mapping, actor string) (*Import, error) {
	if !utf8.ValidString(fileName) {
		fileName = strings.ToValidUTF8(fileName, "?")
	}
	imp := &Import{ID: ulid.Make().String(), FileName: handover.Clip(filepath.Base(fileName), 200), Status: ImportPending, CreatedBy: actor}
	mapping, _ := json.Marshal(m)
	err := im.db.InTx(ctx, func(tx *database.Tx) error {
		imp.CreatedAt = tx.Now
		_, err := tx.ExecContext(ctx, `INSERT INTO imports (id, file_name, format, status, mapping, created_by, created_at, heartbeat_at)
			VALUES ($1, $2, '', $3, $4, $5, $6, $6)`, imp.ID, imp.FileName, imp.Status, string(mapping), actor, tx.Now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create import: %w", err)
	}
	return imp, nil
}

func (im *Importer) setImportRunning(ctx context.Context, imp *Import) error {
	return im.db.InTx(ctx, func(tx *database.Tx) error {
		imp.Status, imp.StartedAt = ImportRunning, &tx.Now
		_, err := tx.ExecContext(ctx, `UPDATE imports SET status = $1, started_at = $2, heartbeat_at = $2 WHERE id = $3`, imp.Status, tx.Now, imp.ID)
		return err
	})
}

func (im *Importer) setImportScanned(ctx context.Context, imp *Import) error {
	return im.db.InTx(ctx, func(tx *database.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE imports SET format = $1, total_rows = $2 WHERE id = $3`, imp.Format, imp.TotalRows, imp.ID)
		return err
	})
}

// heartbeat keeps the import's heartbeat_at fresh until stop is called.
func (im *Importer) heartbeat(id string, log *slog.Logger) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, err := im.db.ExecContext(context.Background(), `UPDATE imports SET heartbeat_at = $1 WHERE id = $2`, im.db.Now(), id)
				if err != nil {
					log.Warn("import heartbeat", "err", err)
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// finishImport marks the import completed (failure "") or failed, and
// audits it with counts only.
func (im *Importer) finishImport(ctx context.Context, imp *Import, failure string) error {
	return im.db.InTx(ctx, func(tx *database.Tx) error {
		imp.Status, imp.Failure, imp.FinishedAt = ImportCompleted, failure, &tx.Now
		action := "import.complete"
		if failure != "" {
			imp.Status, action = ImportFailed, "import.fail"
		}
		_, err := tx.ExecContext(ctx, `UPDATE imports SET status = $1, failure = $2, finished_at = $3, format = $4, total_rows = $5
			WHERE id = $6`, imp.Status, failure, tx.Now, imp.Format, imp.TotalRows, imp.ID)
		if err != nil {
			return fmt.Errorf("finish import: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: imp.CreatedBy, Action: action, ObjectType: "import", ObjectID: imp.ID,
			Detail: fmt.Sprintf("format=%s total=%d processed=%d created=%d updated=%d rejected=%d",
				imp.Format, imp.TotalRows, imp.ProcessedRows, imp.Created, imp.Updated, imp.Rejected)})
	})
}

// FindImportByID returns an import with its first 1,000 rejected-row
// reports.
func (im *Importer) FindImportByID(ctx context.Context, id string) (*Import, error) {
	var imp Import
	var started, finished sql.NullTime
	err := im.db.QueryRowContext(ctx, `SELECT id, file_name, format, status, total_rows, processed_rows, created_count,
		updated_count, rejected_count, failure, created_by, created_at, started_at, finished_at FROM imports WHERE id = $1`, id).Scan(
		&imp.ID, &imp.FileName, &imp.Format, &imp.Status, &imp.TotalRows, &imp.ProcessedRows, &imp.Created, &imp.Updated,
		&imp.Rejected, &imp.Failure, &imp.CreatedBy, &imp.CreatedAt, &started, &finished)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Import not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find import: %w", err)
	}
	imp.CreatedAt = imp.CreatedAt.UTC()
	if started.Valid {
		t := started.Time.UTC()
		imp.StartedAt = &t
	}
	if finished.Valid {
		t := finished.Time.UTC()
		imp.FinishedAt = &t
	}
	imp.Errors, err = database.QueryAll(ctx, im.db, func(row database.Scanner) (RowError, error) {
		var e RowError
		err := row.Scan(&e.Row, &e.Field, &e.Reason)
		return e, err
	}, fmt.Sprintf(`SELECT row_num, field, reason FROM import_errors WHERE import_id = $1
		ORDER BY row_num, field LIMIT %d`, maxLoadedErrors), id)
	if err != nil {
		return nil, fmt.Errorf("find import errors: %w", err)
	}
	return &imp, nil
}

// FailInterruptedImports marks failed the imports that a dead process left
// pending or running, and returns how many. Call it at start-up. On SQLite
// only this process uses the database, so every unfinished import is dead;
// on PostgreSQL other processes may be importing, so only imports whose
// heartbeat stopped count.
func (im *Importer) FailInterruptedImports(ctx context.Context) (int, error) {
	var n int64
	err := im.db.InTx(ctx, func(tx *database.Tx) error {
		cutoff := tx.Now.Add(-staleAfter)
		if im.db.Dialect == database.SQLite {
			cutoff = tx.Now.Add(time.Hour)
		}
		res, err := tx.ExecContext(ctx, `UPDATE imports SET status = $1, failure = $2, finished_at = $3
			WHERE status IN ($4, $5) AND COALESCE(heartbeat_at, created_at) < $6`,
			ImportFailed, interruptedFailure, tx.Now, ImportPending, ImportRunning, cutoff)
		if err != nil {
			return fmt.Errorf("fail interrupted imports: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
