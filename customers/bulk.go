package customers

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// FindCustomersByIDs returns the customers of ids that exist, decrypted,
// keyed by id: one query for the rows and one for their data keys per 500
// ids. Missing ids are absent from the map. An error opening any
// customer's fields fails the whole call; callers that must isolate such a
// customer can fall back to FindCustomerByID.
func (s *Store) FindCustomersByIDs(ctx context.Context, ids []string) (map[string]*Customer, error) {
	return s.FindCustomersByIDsTx(ctx, s.db, ids)
}

// FindCustomersByIDsTx is FindCustomersByIDs on q: the caller's
// transaction, or the database.
func (s *Store) FindCustomersByIDsTx(ctx context.Context, q pii.Querier, ids []string) (map[string]*Customer, error) {
	out := make(map[string]*Customer, len(ids))
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		in, args := database.InList(q, nil, ids[start:min(start+chunk, len(ids))])
		sealed, err := database.QueryAll(ctx, q, scanCustomer, `SELECT `+customerColumns+` FROM customers WHERE id `+in, args...)
		if err != nil {
			return nil, fmt.Errorf("find customers: %w", err)
		}
		list, err := s.open(ctx, q, sealed)
		if err != nil {
			return nil, err
		}
		for _, c := range list {
			out[c.ID] = c
		}
	}
	return out, nil
}
