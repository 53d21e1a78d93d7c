package customers

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
)

// BindWeChatOpenID records the openid WeChat's OAuth (snsapi_base) gave
// when the customer opened their link inside WeChat: sealed with their
// other personal fields and findable through the blind index. It reports
// whether anything changed; an openid that belongs to another customer is
// an ECONFLICT error and changes nothing.
func (s *Store) BindWeChatOpenID(ctx context.Context, id, openID, actor string) (bool, error) {
	if openID == "" || len(openID) > 128 {
		return false, handover.Errorf(handover.EINVALID, "The WeChat openid is not valid.")
	}
	changed := false
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		c, err := s.findCustomerByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if c.Status == StatusErased || c.WeChatOpenID == openID {
			return nil
		}
		keys, err := s.vault.CustomerKeys(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		dk := keys[id]
		if dk == nil {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		p := personal{Name: c.Name, Phone: c.Phone, Email: c.Email, WeChatOpenID: openID, Company: c.Company, Address: c.Address}
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET pii_enc = $1, openid_idx = $2, updated_at = $3 WHERE id = $4`,
			sealPersonal(dk, id, &p), s.vault.Index.OpenID(openID), tx.Now, id); err != nil {
			return fmt.Errorf("bind wechat openid: %w", err)
		}
		changed = true
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.bind_wechat", ObjectType: "customer", ObjectID: id,
			Detail: "source=portal_oauth"})
	})
	return changed, err
}
