package customers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
)

// Sources of an address binding, named in its audit entry.
const (
	BindSourcePortalOAuth = "portal_oauth"  // WeChat OAuth on the customer's link
	BindSourceTicketLink  = "ticket_link"   // staff linked an unmatched ticket
	BindSourceReview      = "wechat_review" // staff approved a queued WeChat bind
)

// Binding is one address to bind to a customer: exactly one of Address's
// fields set.
type Binding struct {
	CustomerID string
	Address    channels.Address
	// Replace lets the address replace a different one of its kind on
	// file; without it such a binding is ECONFLICT (ErrHasOther).
	Replace bool
	Source  string
	Actor   string
}

// ErrAddressTaken is the ECONFLICT of an address already bound to another
// customer; ErrHasOther that of a customer who already has a different
// address of that kind.
var (
	ErrAddressTaken = handover.Errorf(handover.ECONFLICT, "This address is already bound to another customer; it was not bound.")
	ErrHasOther     = handover.Errorf(handover.ECONFLICT, "The customer already has a different address of this kind; change it through a correction.")
)

// addressSlot is where one kind of address lives in a customer's record.
type addressSlot struct {
	kind   string // audit detail and messages: wechat | phone | email
	column string // blind index column
	field  func(p *Personal) *string
	index  func(x *pii.Index, v string) string
}

var addressSlots = map[string]addressSlot{
	"wechat": {"wechat", "openid_idx", func(p *Personal) *string { return &p.WeChatOpenID }, (*pii.Index).OpenID},
	"phone":  {"phone", "phone_idx", func(p *Personal) *string { return &p.Phone }, (*pii.Index).Phone},
	"email":  {"email", "email_idx", func(p *Personal) *string { return &p.Email }, (*pii.Index).Email},
}

// normalizeBinding finds the binding's one address, normalized, and its slot.
func normalizeBinding(a channels.Address) (addressSlot, string, error) {
	var kind, v string
	n := 0
	for _, f := range []struct{ kind, v string }{{"wechat", a.OpenID}, {"phone", a.Phone}, {"email", a.Email}} {
		if f.v != "" {
			kind, v, n = f.kind, f.v, n+1
		}
	}
	if n != 1 {
		return addressSlot{}, "", handover.Errorf(handover.EINVALID, "Bind one address at a time: a WeChat openid, a phone number or an email address.")
	}
	var err error
	switch kind {
	case "wechat":
		var problem string
		if v, problem = NormalizeOpenID(v); problem != "" || v == "" {
			err = handover.Errorf(handover.EINVALID, "The WeChat openid is not valid.")
		}
	case "phone":
		v, err = NormalizePhone(v)
	case "email":
		v, err = NormalizeEmail(v)
	}
	return addressSlots[kind], v, err
}

// BindAddress binds b's address to the customer (see BindAddressTx) in a
// transaction of its own. A refusal because the address belongs to
// another customer is audited (customer.bind_refused) before it returns.
func (s *Store) BindAddress(ctx context.Context, b Binding) (bool, error) {
	var changed, refused bool
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		changed, err = s.BindAddressTx(ctx, tx, b)
		if errors.Is(err, ErrAddressTaken) {
			refused = true
			return auditBindRefused(ctx, tx, b)
		}
		return err
	})
	if err == nil && refused {
		return false, ErrAddressTaken
	}
	return changed, err
}

func auditBindRefused(ctx context.Context, tx *database.Tx, b Binding) error {
	slot, _, _ := normalizeBinding(b.Address)
	return audit.Record(ctx, tx, audit.Entry{Actor: b.Actor, Action: "customer.bind_refused", ObjectType: "customer", ObjectID: b.CustomerID,
		Detail: "kind=" + slot.kind + " source=" + b.Source + " reason=bound_to_another_customer"})
}

// BindAddressTx records an address the customer was seen to hold (their
// WeChat OAuth, a message staff linked to them): sealed with their other
// personal fields and findable through the blind index, audited
// (customer.bind_address, the kind and source, never the value). It
// reports whether anything changed. An address bound to another customer
// is ErrAddressTaken and a different one of the kind on file ErrHasOther
// (unless b.Replace); both change nothing.
func (s *Store) BindAddressTx(ctx context.Context, tx *database.Tx, b Binding) (bool, error) {
	slot, v, err := normalizeBinding(b.Address)
	if err != nil {
		return false, err
	}
	if b.Source == "" || b.Actor == "" {
		return false, handover.Errorf(handover.EINVALID, "A binding needs its source and actor.")
	}
	if _, err := LockCustomer(ctx, tx, b.CustomerID); err != nil {
		return false, err
	}
	var enc string
	var status Status
	if err := tx.QueryRowContext(ctx, `SELECT pii_enc, status FROM customers WHERE id = $1`, b.CustomerID).Scan(&enc, &status); err != nil {
		return false, fmt.Errorf("bind address: %w", err)
	}
	keys, err := s.vault.CustomerKeys(ctx, tx, []string{b.CustomerID})
	if err != nil {
		return false, err
	}
	dk := keys[b.CustomerID]
	if status == StatusErased || dk == nil {
		return false, handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	}
	p, err := OpenPersonal(dk, b.CustomerID, enc)
	if err != nil {
		return false, err
	}
	field := slot.field(&p)
	if *field == v {
		return false, nil
	}
	idx := slot.index(s.vault.Index, v)
	var other string
	err = tx.QueryRowContext(ctx, `SELECT id FROM customers WHERE `+slot.column+` = $1 AND id <> $2`, idx, b.CustomerID).Scan(&other)
	if err == nil {
		return false, ErrAddressTaken
	} else if !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("bind address: %w", err)
	}
	replaced := *field != ""
	if replaced && !b.Replace {
		return false, ErrHasOther
	}
	*field = v
	if _, err := tx.ExecContext(ctx, `UPDATE customers SET pii_enc = $1, `+slot.column+` = $2, updated_at = $3 WHERE id = $4`,
		SealPersonal(dk, b.CustomerID, &p), idx, tx.Now, b.CustomerID); err != nil {
		if handover.ErrorCode(database.MapError(err)) == handover.ECONFLICT {
			return false, ErrAddressTaken
		}
		return false, fmt.Errorf("bind address: %w", err)
	}
	detail := "kind=" + slot.kind + " source=" + b.Source
	if replaced {
		detail += " replaced=true"
	}
	return true, audit.Record(ctx, tx, audit.Entry{Actor: b.Actor, Action: "customer.bind_address", ObjectType: "customer",
		ObjectID: b.CustomerID, Detail: detail})
}

// AddressOwner returns the id of the customer (not erased) an address is
// bound to, "" when none: what a bind proposal checks before staff
// confirm it.
func (s *Store) AddressOwner(ctx context.Context, a channels.Address) (string, error) {
	slot, v, err := normalizeBinding(a)
	if err != nil {
		return "", err
	}
	var id string
	err = s.db.QueryRowContext(ctx, `SELECT id FROM customers WHERE `+slot.column+` = $1 AND status <> 'erased'`, slot.index(s.vault.Index, v)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("address owner: %w", err)
	}
	return id, nil
}
