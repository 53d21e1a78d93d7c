package customers

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// CustomerUpdate is a change to a customer's plain (unsealed) fields; nil
// fields stay as they are. Personal fields change through corrections.
type CustomerUpdate struct {
	// TimeZone is an IANA zone name (see NormalizeTimeZone), or "" for
	// not known.
	TimeZone *string
}

// UpdateCustomer applies upd to the customer and audits it; it returns the
// customer as stored.
func (s *Store) UpdateCustomer(ctx context.Context, id string, upd CustomerUpdate, actor string) (*Customer, error) {
	if upd.TimeZone == nil {
		return nil, handover.Errorf(handover.EINVALID, "nothing to update: give time_zone")
	}
	zone, err := NormalizeTimeZone(*upd.TimeZone)
	if err != nil {
		return nil, handover.Errorf(handover.EINVALID, "time_zone %q is not an IANA time zone name such as Asia/Shanghai or Europe/Berlin", handover.Clip(*upd.TimeZone, 64))
	}
	var c *Customer
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE customers SET time_zone = $1, updated_at = $2 WHERE id = $3`, zone, tx.Now, id)
		if err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		detail, _ := json.Marshal(map[string]string{"time_zone": zone})
		if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.update", ObjectType: "customer", ObjectID: id,
			Detail: string(detail)}); err != nil {
			return err
		}
		c, err = s.findCustomerByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}
