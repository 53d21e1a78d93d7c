package importer

import (
	"context"
	"runtime"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/pii"
)

// record is one parsed, normalised row ready to be written.
type record struct {
	line int64
	// vals holds the normalised values by fieldIndex; "" means the row does
	// not give that field (an update then keeps the stored value).
	vals                          [numFields]string
	phoneIdx, emailIdx, openidIdx string
	errs                          []RowError // non-empty: the row is rejected
	// asNew is the row prepared, off the writer, as a new customer of its
	// own: most rows create one. The writer uses it when the row does.
	asNew prepared
}

// prepared is a new customer made from one row: id, wrapped data key and
// personal fields sealed with it. Only the wrapped key is kept, so a
// batch waiting for the writer does not hold thousands of ciphers.
type prepared struct {
	id      string
	wrapped pii.WrappedKey
	enc     string
}

// prepare makes each valid record's new customer: ids in file order (ids
// order customers by creation), then data keys and seals in parallel. A
// record it cannot prepare is left for the writer to do.
func prepare(recs []record, keys *pii.Keyring) {
	for i := range recs {
		if len(recs[i].errs) == 0 {
			recs[i].asNew.id = ulid.Make().String()
		}
	}
	parallel(len(recs), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			rec := &recs[i]
			if rec.asNew.id == "" {
				continue
			}
			dk, wrapped, err := keys.NewDataKey()
			if err != nil {
				rec.asNew = prepared{}
				continue
			}
			e := entity{id: rec.asNew.id, key: dk, vals: rec.vals}
			e.seal()
			rec.asNew.wrapped, rec.asNew.enc = wrapped, e.enc
		}
	})
}

// numFields is len(importFields), as a constant for array sizes.
const numFields = 11

// Field positions in record.vals.
var (
	iExternalRef = fieldIndex[customers.FieldExternalRef]
	iName        = fieldIndex[customers.FieldName]
	iPhone       = fieldIndex[customers.FieldPhone]
	iEmail       = fieldIndex[customers.FieldEmail]
	iOpenID      = fieldIndex[customers.FieldWeChatOpenID]
	iCompany     = fieldIndex[customers.FieldCompany]
	iAddress     = fieldIndex[customers.FieldAddress]
	iRegion      = fieldIndex[customers.FieldRegion]
	iTags        = fieldIndex[customers.FieldTags]
	iLocale      = fieldIndex[customers.FieldLocale]
	iTimeZone    = fieldIndex[customers.FieldTimeZone]
)

// checkRow normalises one row's cells; a row the reader found invalid in
// the file's encoding (invalid says why) is rejected whole. Rejection
// reasons never quote the rejected value. index, when not nil, fills in
// the blind indexes of an accepted row.
func checkRow(cols columns, cells []string, line int64, invalid string, index *pii.Index) record {
	if invalid != "" {
		return record{line: line, errs: []RowError{{Row: line, Field: "encoding", Reason: invalid}}}
	}
	rec := normalizeRow(cols, cells, line)
	if len(rec.errs) == 0 && index != nil {
		rec.phoneIdx = index.Phone(rec.vals[iPhone])
		rec.emailIdx = index.Email(rec.vals[iEmail])
		rec.openidIdx = index.OpenID(rec.vals[iOpenID])
	}
	return rec
}

func normalizeRow(cols columns, cells []string, line int64) record {
	rec := record{line: line}
	reject := func(field, reason string) {
		rec.errs = append(rec.errs, RowError{Row: line, Field: field, Reason: reason})
	}
	for i, positions := range cols {
		raw := ""
		for _, p := range positions {
			if p < len(cells) && strings.TrimSpace(cells[p]) != "" {
				raw = cells[p]
				break
			}
		}
		if raw == "" {
			continue
		}
		var v, problem string
		switch i {
		case iPhone:
			var err error
			if v, err = customers.NormalizePhone(raw); err != nil {
				problem = handover.ErrorMessage(err)
			}
		case iEmail:
			var err error
			if v, err = customers.NormalizeEmail(raw); err != nil {
				problem = handover.ErrorMessage(err)
			}
		case iOpenID:
			v, problem = customers.NormalizeOpenID(raw)
		case iTags:
			var tags []string
			tags, problem = splitTags(raw)
			v = strings.Join(tags, ",")
		case iLocale:
			v, problem = normalizeLocale(raw)
		case iTimeZone:
			var err error
			if v, err = customers.NormalizeTimeZone(raw); err != nil {
				problem = handover.ErrorMessage(err)
			}
		case iName:
			v, problem = customers.CleanText(raw, customers.MaxNameLen, "name")
		case iCompany, iAddress:
			v, problem = customers.CleanText(raw, customers.MaxTextLen, importFields[i])
		default: // external_ref, region
			v, problem = customers.CleanText(raw, maxShortLen, importFields[i])
		}
		if problem != "" {
			reject(importFields[i], problem)
			continue
		}
		rec.vals[i] = v
	}
	if len(rec.errs) > 0 {
		return rec
	}
	if rec.vals[iPhone] == "" && rec.vals[iEmail] == "" && rec.vals[iOpenID] == "" {
		reject("contact", "the row has no phone, email or WeChat openid")
	}
	return rec
}

// parallel runs fn over [0, n) split into one contiguous part per CPU.
func parallel(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || n < 64 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// importRows is the second pass. A reader goroutine reads and parses
// (in parallel) the next batch while this one writes the current batch in
// its transaction, so parsing and the database work overlap.
func (im *Importer) importRows(ctx context.Context, imp *Import, path string, scan *scanResult, lim limits, progress func(done, total int64)) error {
	rr, err := openRows(path, scan.Info, lim)
	if err != nil {
		return err
	}
	defer rr.Close()
	if !rr.Next() { // the header
		return fileError("the file changed while it was being imported")
	}
	size := im.BatchSize
	if size <= 0 {
		size = 5000
	}
	batches := make(chan []record, 1)
	stop := make(chan struct{})
	var readErr error
	go func() {
		defer close(batches)
		cells := make([][]string, 0, size)
		lines := make([]int64, 0, size)
		invalid := make([]string, 0, size)
		send := func() bool {
			recs := make([]record, len(cells))
			parallel(len(cells), func(lo, hi int) {
				for i := lo; i < hi; i++ {
					recs[i] = checkRow(scan.Cols, cells[i], lines[i], invalid[i], im.vault.Index)
				}
			})
			prepare(recs, im.vault.Keys)
			cells, lines, invalid = cells[:0], lines[:0], invalid[:0]
			select {
			case batches <- recs:
				return true
			case <-stop:
				return false
			}
		}
		for rr.Next() {
			cells = append(cells, append([]string(nil), rr.Row()...))
			lines = append(lines, rr.Line())
			invalid = append(invalid, rr.Invalid())
			if len(cells) == size && !send() {
				return
			}
		}
		if readErr = rr.Err(); readErr == nil && len(cells) > 0 {
			send()
		}
	}()
	defer func() {
		close(stop)
		for range batches { // let the reader finish before rr.Close
		}
	}()
	w := &batchWriter{db: im.db, vault: im.vault, imp: imp}
	for recs := range batches {
		if err := w.write(ctx, recs); err != nil {
			return err
		}
		if progress != nil {
			progress(imp.ProcessedRows, imp.TotalRows)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if readErr != nil {
		return handover.Errorf(handover.EINVALID, "%s (the file changed while it was being imported; %d rows were saved)",
			handover.ErrorMessage(readErr), imp.ProcessedRows)
	}
	return nil
}
