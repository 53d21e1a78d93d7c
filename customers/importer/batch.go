package importer

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// entity is a customer a batch creates or updates, with the values the
// batch's rows give it merged in file order (later rows win).
type entity struct {
	id       string
	existing bool
	erased   bool // existing, but erased: their data must not come back
	key      *pii.DataKey
	wrapped  pii.WrappedKey
	vals     [numFields]string
	idx      [3]string // phone, email, openid blind indexes this batch sets
	stored   string    // existing: the pii_enc the lookup read
	prep     *record   // new: the row that created it, as prepared
	merged   bool      // new: later rows of the batch gave it values too
	enc      string    // the pii_enc to store; "" keeps the stored one
}

// batchWriter writes an import's batches, each in one transaction.
type batchWriter struct {
	db           *database.DB
	vault        *pii.Vault
	imp          *Import
	storedErrors int
	// lookupFirst: the last batch met existing customers, so the next one
	// looks them up before writing. Otherwise a SQLite batch is first
	// written as all new (the common case: most imports bring new
	// customers), skipping the lookup; the blind indexes' unique
	// constraints catch a row of an existing customer, and the batch is
	// then rolled back and written again after a lookup.
	lookupFirst bool
}

// batchResult is what one batch changed.
type batchResult struct {
	created, updated, rejected int64
	errs                       []RowError
	metExisting                bool // the lookup found existing customers
}

// write stores a batch of parsed rows. A unique-index conflict means another
// writer added one of the same customers meanwhile; the batch is then
// resolved again from the start.
func (w *batchWriter) write(ctx context.Context, recs []record) error {
	var res batchResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		guess := w.db.Dialect == database.SQLite && !w.lookupFirst
		err = w.db.InTx(ctx, func(tx *database.Tx) error {
			res = batchResult{}
			return w.writeTx(ctx, tx, recs, &res, guess)
		})
		if handover.ErrorCode(err) != handover.ECONFLICT {
			break
		}
		if guess { // not a race: the batch has existing customers
			w.lookupFirst = true
			attempt--
		}
	}
	if err != nil {
		return fmt.Errorf("import batch: %w", err)
	}
	w.lookupFirst = res.metExisting
	w.imp.ProcessedRows += int64(len(recs))
	w.imp.Created += res.created
	w.imp.Updated += res.updated
	w.imp.Rejected += res.rejected
	w.storedErrors += min(len(res.errs), maxStoredErrors-w.storedErrors)
	return nil
}

// writeTx writes a batch in tx. allNew skips looking up existing customers:
// the batch is written as if there were none, and a row of an existing
// customer then fails the insert with ECONFLICT.
func (w *batchWriter) writeTx(ctx context.Context, tx *database.Tx, recs []record, res *batchResult, allNew bool) error {
	byIdx := map[string]*entity{}
	if !allNew {
		var err error
		if byIdx, err = w.lookup(ctx, tx, recs); err != nil {
			return err
		}
		res.metExisting = len(byIdx) > 0
	}
	var created, updated []*entity
	seenUpdate := map[*entity]bool{}
	for i := range recs {
		rec := &recs[i]
		if len(rec.errs) > 0 {
			res.rejected++
			res.errs = append(res.errs, rec.errs...)
			continue
		}
		keys := [3]string{rec.phoneIdx, rec.emailIdx, rec.openidIdx}
		var match *entity
		var matchedBy []string
		conflict := false
		for k, idx := range keys {
			e := byIdx[idx]
			if idx == "" || e == nil {
				continue
			}
			matchedBy = append(matchedBy, contactFields[k])
			if match != nil && match != e {
				conflict = true
			}
			match = e
		}
		switch {
		case conflict:
			res.rejected++
			res.errs = append(res.errs, RowError{Row: rec.line, Field: strings.Join(matchedBy, ","),
				Reason: strings.Join(matchedBy, " and ") + " belong to different existing customers; correct the row or merge those customers first"})
			continue
		case match != nil && match.erased:
			res.rejected++
			res.errs = append(res.errs, RowError{Row: rec.line, Field: matchedBy[0],
				Reason: "this customer's data was erased and is not imported again"})
			continue
		case match == nil:
			match = &entity{prep: rec}
			created = append(created, match)
			res.created++
		default:
			res.updated++
			match.merged = true
			if match.existing && !seenUpdate[match] {
				seenUpdate[match] = true
				updated = append(updated, match)
			}
		}
		for f, v := range rec.vals {
			if v != "" {
				match.vals[f] = v
			}
		}
		for k, idx := range keys {
			if idx != "" {
				match.idx[k] = idx
				byIdx[idx] = match
			}
		}
	}
	// New customers come prepared by the reader; only those it could not
	// prepare, or that later rows of the batch merged into, are sealed here.
	var reseal []*entity
	for _, e := range created {
		if p := e.prep.asNew; p.id != "" {
			e.id, e.wrapped, e.enc = p.id, p.wrapped, p.enc
			if e.merged {
				reseal = append(reseal, e)
			}
		} else {
			e.id = ulid.Make().String()
			reseal = append(reseal, e)
		}
	}
	var sealErr error
	var sealErrOnce sync.Once
	parallel(len(reseal), func(lo, hi int) {
		for _, e := range reseal[lo:hi] {
			var err error
			if e.wrapped.Wrapped == "" {
				e.key, e.wrapped, err = w.vault.Keys.NewDataKey()
			} else {
				e.key, err = w.vault.Keys.Unwrap(e.wrapped)
			}
			if err != nil {
				sealErrOnce.Do(func() { sealErr = fmt.Errorf("data key: %w", err) })
				return
			}
			e.seal()
		}
	})
	parallel(len(updated), func(lo, hi int) {
		for _, e := range updated[lo:hi] {
			if err := e.reseal(); err != nil {
				sealErrOnce.Do(func() { sealErr = err })
				return
			}
		}
	})
	if sealErr != nil {
		return sealErr
	}
	if err := w.insertCustomers(ctx, tx, created); err != nil {
		return err
	}
	if err := w.updateCustomers(ctx, tx, updated); err != nil {
		return err
	}
	if err := w.insertErrors(ctx, tx, res.errs); err != nil {
		return err
	}
	imp := w.imp
	_, err := tx.ExecContext(ctx, `UPDATE imports SET processed_rows = $1, created_count = $2, updated_count = $3,
		rejected_count = $4, heartbeat_at = $5 WHERE id = $6`,
		imp.ProcessedRows+int64(len(recs)), imp.Created+res.created, imp.Updated+res.updated, imp.Rejected+res.rejected, tx.Now, imp.ID)
	return err
}

// contactFields names the blind-indexed fields in entity.idx order.
var contactFields = [3]string{customers.FieldPhone, customers.FieldEmail, customers.FieldWeChatOpenID}

// merge sets in p the personal values the batch gives and reports whether
// it gave any.
func (e *entity) merge(p *customers.Personal) bool {
	changed := false
	for _, f := range [...]struct {
		dst *string
		i   int
	}{{&p.Name, iName}, {&p.Phone, iPhone}, {&p.Email, iEmail}, {&p.WeChatOpenID, iOpenID}, {&p.Company, iCompany}, {&p.Address, iAddress}} {
		if v := e.vals[f.i]; v != "" {
			*f.dst, changed = v, true
		}
	}
	return changed
}

// seal encrypts a new customer's personal values with their data key.
func (e *entity) seal() {
	var p customers.Personal
	e.merge(&p)
	e.enc = customers.SealPersonal(e.key, e.id, &p)
}

// reseal merges the batch's personal values into an existing customer's
// stored ones (the values the batch does not give are kept) and seals the
// result; a batch giving none leaves enc "" (kept as stored).
func (e *entity) reseal() error {
	p, err := customers.OpenPersonal(e.key, e.id, e.stored)
	if err != nil {
		return err
	}
	if e.merge(&p) {
		e.enc = customers.SealPersonal(e.key, e.id, &p)
	}
	return nil
}

// lookupChunk bounds the values one lookup query carries, under SQLite's
// 32,766 parameter limit whatever the batch size.
const lookupChunk = 10000

// lookup finds the existing customers that share a phone, email or openid
// with the batch's rows, with one query per index (per chunk of values),
// and loads their keys.
func (w *batchWriter) lookup(ctx context.Context, tx *database.Tx, recs []record) (map[string]*entity, error) {
	type probe struct{ col, value string }
	var probes []probe
	for k, col := range []string{"phone_idx", "email_idx", "openid_idx"} {
		seen := map[string]bool{}
		for i := range recs {
			v := [3]string{recs[i].phoneIdx, recs[i].emailIdx, recs[i].openidIdx}[k]
			if v != "" && !seen[v] {
				seen[v] = true
				probes = append(probes, probe{col, v})
			}
		}
	}
	byIdx := map[string]*entity{}
	byID := map[string]*entity{}
	for start := 0; start < len(probes); start += lookupChunk {
		chunk := probes[start:min(start+lookupChunk, len(probes))]
		var selects []string
		args := make([]any, 0, len(chunk))
		for i := 0; i < len(chunk); {
			col, ph := chunk[i].col, []string{}
			for ; i < len(chunk) && chunk[i].col == col; i++ {
				args = append(args, chunk[i].value)
				ph = append(ph, placeholder(tx, len(args)))
			}
			selects = append(selects, `SELECT id, status, pii_enc, COALESCE(phone_idx, ''), COALESCE(email_idx, ''), COALESCE(openid_idx, '')
				FROM customers WHERE `+col+` IN (`+strings.Join(ph, ",")+`)`)
		}
		if err := scanMatches(ctx, tx, strings.Join(selects, " UNION ALL "), args, byID, byIdx); err != nil {
			return nil, err
		}
	}
	if len(byID) == 0 {
		return byIdx, nil
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	keys, err := w.vault.CustomerKeys(ctx, tx, ids)
	if err != nil {
		return nil, err
	}
	for id, e := range byID {
		if e.key = keys[id]; e.key == nil {
			e.erased = true // no key: nothing could be sealed for them
		}
	}
	return byIdx, nil
}

// scanMatches runs one lookup query and indexes the customers it finds by
// id and by each of their blind indexes.
func scanMatches(ctx context.Context, tx *database.Tx, query string, args []any, byID, byIdx map[string]*entity) error {
	err := database.EachRow(ctx, tx, func(row database.Scanner) error {
		var id, stored string
		var status customers.Status
		var idx [3]string
		if err := row.Scan(&id, &status, &stored, &idx[0], &idx[1], &idx[2]); err != nil {
			return err
		}
		e := byID[id]
		if e == nil {
			e = &entity{id: id, existing: true, erased: status == customers.StatusErased, stored: stored}
			byID[id] = e
		}
		for _, v := range idx {
			if v != "" {
				byIdx[v] = e
			}
		}
		return nil
	}, query, args...)
	if err != nil {
		return fmt.Errorf("look up existing customers: %w", err)
	}
	return nil
}

// placeholder is the n-th (1-based) parameter marker. SQLite gets "?":
// it looks each $N up in a list, which is quadratic in a statement with
// thousands of parameters.
func placeholder(tx *database.Tx, n int) string {
	if tx.Dialect() == database.SQLite {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

func (w *batchWriter) insertCustomers(ctx context.Context, tx *database.Tx, created []*entity) error {
	columns := []string{"id", "external_ref", "pii_enc", "phone_idx", "email_idx", "openid_idx", "region", "tags", "locale", "time_zone", "import_id", "created_at", "updated_at"}
	err := database.InsertRows(ctx, tx, "customers", columns, "", len(created), func(i int, dst []any) []any {
		e := created[i]
		locale := e.vals[iLocale]
		if locale == "" {
			locale = "zh-CN"
		}
		return append(dst, e.id, e.vals[iExternalRef], e.enc, database.Nullable(e.idx[0]), database.Nullable(e.idx[1]), database.Nullable(e.idx[2]), e.vals[iRegion], e.vals[iTags], locale,
			e.vals[iTimeZone], w.imp.ID, tx.Now, tx.Now)
	})
	if err != nil {
		return fmt.Errorf("insert customers: %w", err)
	}
	keys := make([]pii.CustomerKey, len(created))
	for i, e := range created {
		keys[i] = pii.CustomerKey{CustomerID: e.id, WrappedKey: e.wrapped}
	}
	return pii.InsertCustomerKeys(ctx, tx, keys)
}

func (w *batchWriter) updateCustomers(ctx context.Context, tx *database.Tx, updated []*entity) error {
	if len(updated) == 0 {
		return nil
	}
	// pii_enc is read by the lookup and rewritten whole: the row must
	// still hold what was read, or another writer changed the customer
	// meanwhile and the batch is resolved again (ECONFLICT).
	stmt, err := tx.PrepareContext(ctx, `UPDATE customers SET external_ref = COALESCE($1, external_ref),
		pii_enc = COALESCE($2, pii_enc), phone_idx = COALESCE($3, phone_idx), email_idx = COALESCE($4, email_idx),
		openid_idx = COALESCE($5, openid_idx), region = COALESCE($6, region), tags = COALESCE($7, tags),
		locale = COALESCE($8, locale), time_zone = COALESCE($9, time_zone), updated_at = $10
		WHERE id = $11 AND pii_enc = $12`)
	if err != nil {
		return fmt.Errorf("update customers: %w", err)
	}
	defer stmt.Close()
	for _, e := range updated {
		res, err := stmt.ExecContext(ctx, database.Nullable(e.vals[iExternalRef]), database.Nullable(e.enc),
			database.Nullable(e.idx[0]), database.Nullable(e.idx[1]), database.Nullable(e.idx[2]),
			database.Nullable(e.vals[iRegion]), database.Nullable(e.vals[iTags]), database.Nullable(e.vals[iLocale]), database.Nullable(e.vals[iTimeZone]), tx.Now, e.id, e.stored)
		if err != nil {
			return fmt.Errorf("update customers: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("update customers: %w", err)
		} else if n != 1 {
			return handover.Errorf(handover.ECONFLICT, "a customer changed while the import was updating it")
		}
	}
	return nil
}

// insertErrors stores rejected-row reports until the import has stored
// maxStoredErrors of them.
func (w *batchWriter) insertErrors(ctx context.Context, tx *database.Tx, errs []RowError) error {
	errs = errs[:min(len(errs), max(0, maxStoredErrors-w.storedErrors))]
	err := database.InsertRows(ctx, tx, "import_errors", []string{"import_id", "row_num", "field", "reason"}, "ON CONFLICT DO NOTHING", len(errs),
		func(i int, dst []any) []any { return append(dst, w.imp.ID, errs[i].Row, errs[i].Field, errs[i].Reason) })
	if err != nil {
		return fmt.Errorf("store rejected rows: %w", err)
	}
	return nil
}
