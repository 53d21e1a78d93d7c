package customers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
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
	enc      [6]string // sealed values in sealedFields order
}

// batchWriter writes an import's batches, each in one transaction.
type batchWriter struct {
	store        *Store
	imp          *Import
	storedErrors int
}

// batchResult is what one batch changed.
type batchResult struct {
	created, updated, rejected int64
	errs                       []RowError
}

// write stores a batch of parsed rows. A unique-index conflict means another
// writer added one of the same customers meanwhile; the batch is then
// resolved again from the start.
func (w *batchWriter) write(ctx context.Context, recs []record) error {
	var res batchResult
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		err = w.store.db.InTx(ctx, func(tx *database.Tx) error {
			res = batchResult{}
			return w.writeTx(ctx, tx, recs, &res)
		})
		if handover.ErrorCode(err) != handover.ECONFLICT {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("import batch: %w", err)
	}
	w.imp.ProcessedRows += int64(len(recs))
	w.imp.Created += res.created
	w.imp.Updated += res.updated
	w.imp.Rejected += res.rejected
	w.storedErrors += min(len(res.errs), maxStoredErrors-w.storedErrors)
	return nil
}

func (w *batchWriter) writeTx(ctx context.Context, tx *database.Tx, recs []record, res *batchResult) error {
	byIdx, err := w.lookup(ctx, tx, recs)
	if err != nil {
		return err
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
			match = &entity{}
			created = append(created, match)
			res.created++
		default:
			res.updated++
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
	for _, e := range created {
		e.id = ulid.Make().String()
	}
	var keyErr error
	var keyErrOnce sync.Once
	parallel(len(created), func(lo, hi int) {
		for _, e := range created[lo:hi] {
			dk, wrapped, err := w.store.vault.Keys.NewDataKey()
			if err != nil {
				keyErrOnce.Do(func() { keyErr = err })
				return
			}
			e.key, e.wrapped = dk, wrapped
			e.seal()
		}
	})
	if keyErr != nil {
		return fmt.Errorf("new data key: %w", keyErr)
	}
	parallel(len(updated), func(lo, hi int) {
		for _, e := range updated[lo:hi] {
			e.seal()
		}
	})
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
	_, err = tx.ExecContext(ctx, `UPDATE imports SET processed_rows = $1, created_count = $2, updated_count = $3,
		rejected_count = $4, heartbeat_at = $5 WHERE id = $6`,
		imp.ProcessedRows+int64(len(recs)), imp.Created+res.created, imp.Updated+res.updated, imp.Rejected+res.rejected, tx.Now, imp.ID)
	return err
}

// contactFields names the blind-indexed fields in entity.idx order.
var contactFields = [3]string{FieldPhone, FieldEmail, FieldWeChatOpenID}

// seal encrypts the entity's personal values with its data key; values the
// batch does not give stay "" (kept as stored).
func (e *entity) seal() {
	for j, field := range sealedFields {
		if v := e.vals[fieldIndex[field]]; v != "" {
			e.enc[j] = e.key.Seal(v, e.id+"/"+field)
		}
	}
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
			selects = append(selects, `SELECT id, status, COALESCE(phone_idx, ''), COALESCE(email_idx, ''), COALESCE(openid_idx, '')
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
	keys, err := w.store.vault.CustomerKeys(ctx, tx, ids)
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
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("look up existing customers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, status string
		var idx [3]string
		if err := rows.Scan(&id, &status, &idx[0], &idx[1], &idx[2]); err != nil {
			return err
		}
		e := byID[id]
		if e == nil {
			e = &entity{id: id, existing: true, erased: status == StatusErased}
			byID[id] = e
		}
		for _, v := range idx {
			if v != "" {
				byIdx[v] = e
			}
		}
	}
	return rows.Close()
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

// nullable turns "" into NULL so that COALESCE keeps the stored value and
// unique blind-index columns hold NULL rather than "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (w *batchWriter) insertCustomers(ctx context.Context, tx *database.Tx, created []*entity) error {
	columns := []string{"id", "external_ref", "name_enc", "phone_enc", "email_enc", "openid_enc", "company_enc", "address_enc",
		"phone_idx", "email_idx", "openid_idx", "region", "tags", "locale", "import_id", "created_at", "updated_at"}
	err := database.InsertRows(ctx, tx, "customers", columns, "", len(created), func(i int, dst []any) []any {
		e := created[i]
		locale := e.vals[iLocale]
		if locale == "" {
			locale = "zh-CN"
		}
		return append(dst, e.id, e.vals[iExternalRef], e.enc[0], e.enc[1], e.enc[2], e.enc[3], e.enc[4], e.enc[5],
			nullable(e.idx[0]), nullable(e.idx[1]), nullable(e.idx[2]), e.vals[iRegion], e.vals[iTags], locale,
			w.imp.ID, tx.Now, tx.Now)
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
	stmt, err := tx.PrepareContext(ctx, `UPDATE customers SET external_ref = COALESCE($1, external_ref),
		name_enc = COALESCE($2, name_enc), phone_enc = COALESCE($3, phone_enc), email_enc = COALESCE($4, email_enc),
		openid_enc = COALESCE($5, openid_enc), company_enc = COALESCE($6, company_enc), address_enc = COALESCE($7, address_enc),
		phone_idx = COALESCE($8, phone_idx), email_idx = COALESCE($9, email_idx), openid_idx = COALESCE($10, openid_idx),
		region = COALESCE($11, region), tags = COALESCE($12, tags), locale = COALESCE($13, locale), updated_at = $14
		WHERE id = $15`)
	if err != nil {
		return fmt.Errorf("update customers: %w", err)
	}
	defer stmt.Close()
	for _, e := range updated {
		_, err := stmt.ExecContext(ctx, nullable(e.vals[iExternalRef]), nullable(e.enc[0]), nullable(e.enc[1]),
			nullable(e.enc[2]), nullable(e.enc[3]), nullable(e.enc[4]), nullable(e.enc[5]),
			nullable(e.idx[0]), nullable(e.idx[1]), nullable(e.idx[2]),
			nullable(e.vals[iRegion]), nullable(e.vals[iTags]), nullable(e.vals[iLocale]), tx.Now, e.id)
		if err != nil {
			return fmt.Errorf("update customers: %w", err)
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
