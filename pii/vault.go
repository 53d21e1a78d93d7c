package pii

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoverhq/handover/database"
)

// Vault is the keyring plus the key store in the database: the blind-index
// key (generated once, kept wrapped) and one wrapped data key per customer.
type Vault struct {
	Keys  *Keyring
	Index *Index
}

// OpenVault loads the blind-index key, creating it on first use.
func OpenVault(ctx context.Context, db *database.DB, keys *Keyring) (*Vault, error) {
	var w WrappedKey
	err := db.QueryRowContext(ctx, `SELECT key_id, wrapped FROM system_keys WHERE name = 'blind-index'`).Scan(&w.KeyID, &w.Wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		raw := make([]byte, KeySize)
		rand.Read(raw)
		dk, _ := newDataKey(raw)
		w = keys.Wrap(dk)
		// ON CONFLICT: another process may create it at the same moment;
		// whichever wins, both then read the stored one.
		err = db.InTx(ctx, func(tx *database.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO system_keys (name, key_id, wrapped) VALUES ('blind-index', $1, $2) ON CONFLICT (name) DO NOTHING`, w.KeyID, w.Wrapped)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("create blind-index key: %w", err)
		}
		return OpenVault(ctx, db, keys)
	}
	if err != nil {
		return nil, fmt.Errorf("load blind-index key: %w", err)
	}
	dk, err := keys.Unwrap(w)
	if err != nil {
		return nil, fmt.Errorf("blind-index key: %w (is HANDOVER_MASTER_KEY the key this database was created with?)", err)
	}
	return &Vault{Keys: keys, Index: NewIndex(dk.raw)}, nil
}

// CustomerKey is a customer's wrapped data key as stored.
type CustomerKey struct {
	CustomerID string
	WrappedKey
}

// InsertCustomerKeys stores new customers' wrapped data keys.
func InsertCustomerKeys(ctx context.Context, tx *database.Tx, keys []CustomerKey) error {
	err := database.InsertRows(ctx, tx, "customer_keys", []string{"customer_id", "key_id", "wrapped", "created_at"}, "", len(keys),
		func(i int, dst []any) []any {
			return append(dst, keys[i].CustomerID, keys[i].KeyID, keys[i].Wrapped, tx.Now)
		})
	if err != nil {
		return fmt.Errorf("store customer keys: %w", err)
	}
	return nil
}

// Querier is what loading keys needs: a *database.DB or a *database.Tx.
type Querier = database.Querier

// CustomerKeys loads and unwraps the data keys of the given customers. A
// customer whose key was destroyed is absent from the result.
func (v *Vault) CustomerKeys(ctx context.Context, q Querier, customerIDs []string) (map[string]*DataKey, error) {
	return v.Keys.CustomerKeys(ctx, q, customerIDs)
}

// CustomerKeys loads from the key store and unwraps the data keys of the
// given customers. A customer whose key was destroyed is absent from the
// result.
func (k *Keyring) CustomerKeys(ctx context.Context, q Querier, customerIDs []string) (map[string]*DataKey, error) {
	out := make(map[string]*DataKey, len(customerIDs))
	const chunk = 500
	for start := 0; start < len(customerIDs); start += chunk {
		part := customerIDs[start:min(start+chunk, len(customerIDs))]
		in, args := database.InList(q, nil, part)
		err := database.EachRow(ctx, q, func(row database.Scanner) error {
			ck, err := scanCustomerKey(row)
			if err != nil {
				return err
			}
			dk, err := k.Unwrap(ck.WrappedKey)
			if err != nil {
				return err
			}
			out[ck.CustomerID] = dk
			return nil
		}, `SELECT customer_id, key_id, wrapped FROM customer_keys WHERE customer_id `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("load customer keys: %w", err)
		}
	}
	return out, nil
}

func scanCustomerKey(row database.Scanner) (CustomerKey, error) {
	var ck CustomerKey
	err := row.Scan(&ck.CustomerID, &ck.KeyID, &ck.Wrapped)
	return ck, err
}

// DestroyCustomerKey deletes a customer's data key: their sealed fields are
// unreadable from then on, in this database and in every copy of it.
func DestroyCustomerKey(ctx context.Context, tx *database.Tx, customerID string) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM customer_keys WHERE customer_id = $1`, customerID)
	return err
}

// Rotate re-wraps, under the current master key, every stored key wrapped
// by another one, in batches so that no transaction grows large. It returns
// how many keys it re-wrapped. Nothing is decrypted but the keys, and
// readers keep working throughout (old and new key ids both unwrap).
func (v *Vault) Rotate(ctx context.Context, db *database.DB, progress func(done int)) (int, error) {
	current := v.Keys.CurrentKeyID()
	done := 0
	err := db.InTx(ctx, func(tx *database.Tx) error {
		var w WrappedKey
		if err := tx.QueryRowContext(ctx, `SELECT key_id, wrapped FROM system_keys WHERE name = 'blind-index'`).Scan(&w.KeyID, &w.Wrapped); err != nil {
			return err
		}
		if w.KeyID == current {
			return nil
		}
		dk, err := v.Keys.Unwrap(w)
		if err != nil {
			return err
		}
		nw := v.Keys.Wrap(dk)
		done++
		_, err = tx.ExecContext(ctx, `UPDATE system_keys SET key_id = $1, wrapped = $2 WHERE name = 'blind-index'`, nw.KeyID, nw.Wrapped)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("rotate blind-index key: %w", err)
	}
	// A cursor on the primary key keeps the walk linear: already rotated
	// keys are never scanned again.
	cursor := ""
	for {
		n := 0
		err := db.InTx(ctx, func(tx *database.Tx) error {
			batch, err := database.QueryAll(ctx, tx, scanCustomerKey, `SELECT customer_id, key_id, wrapped FROM customer_keys
				WHERE customer_id > $1 AND key_id <> $2 ORDER BY customer_id LIMIT 1000`, cursor, current)
			if err != nil {
				return err
			}
			for _, ck := range batch {
				dk, err := v.Keys.Unwrap(ck.WrappedKey)
				if err != nil {
					return err
				}
				nw := v.Keys.Wrap(dk)
				if _, err := tx.ExecContext(ctx, `UPDATE customer_keys SET key_id = $1, wrapped = $2 WHERE customer_id = $3`, nw.KeyID, nw.Wrapped, ck.CustomerID); err != nil {
					return err
				}
			}
			n = len(batch)
			if n > 0 {
				cursor = batch[n-1].CustomerID
			}
			return nil
		})
		if err != nil {
			return done, fmt.Errorf("rotate customer keys: %w", err)
		}
		done += n
		if progress != nil && n > 0 {
			progress(done)
		}
		if n == 0 {
			return done, nil
		}
	}
}
