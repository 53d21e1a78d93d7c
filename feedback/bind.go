package feedback

import (
	"context"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/pii"
)

// BindProposal is what linking an unmatched ticket to a customer offers
// to bind: the address the sender wrote from, masked, and whether it can
// be bound.
type BindProposal struct {
	Kind   string // wechat | phone | email
	Masked string
	// Bound says the address is the customer's already: nothing to bind.
	Bound bool
	// Problem says why binding would be refused ("" when it can be bound).
	Problem string
}

// bindable is the one address of a sender to bind, in the order the
// sender's ticket was found by (openid, phone, email).
func bindable(a channels.Address) channels.Address {
	switch {
	case a.OpenID != "":
		return channels.Address{OpenID: a.OpenID}
	case a.Phone != "":
		return channels.Address{Phone: a.Phone}
	case a.Email != "":
		return channels.Address{Email: a.Email}
	}
	return channels.Address{}
}

func addressKind(a channels.Address) string {
	switch {
	case a.OpenID != "":
		return "wechat"
	case a.Phone != "":
		return "phone"
	}
	return "email"
}

func maskAddress(a channels.Address) string {
	switch {
	case a.OpenID != "":
		return pii.MaskText(a.OpenID)
	case a.Phone != "":
		return pii.MaskPhone(a.Phone)
	}
	return pii.MaskEmail(a.Email)
}

// ProposeBinding says what linking the unmatched ticket to the customer
// would bind (LinkCustomer with bind), masked; nil when the ticket kept no
// sender address.
func (s *Service) ProposeBinding(ctx context.Context, ticketID, customerID string) (*BindProposal, error) {
	t, err := s.FindTicketByID(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if !t.Unmatched {
		return nil, handover.Errorf(handover.EINVALID, "Only an unmatched ticket can be linked to a customer.")
	}
	rc, err := s.loadReplyContext(ctx, s.db, ticketID, "")
	if err != nil {
		return nil, err
	}
	a := bindable(rc.From)
	if a == (channels.Address{}) {
		return nil, nil
	}
	p := &BindProposal{Kind: addressKind(a), Masked: maskAddress(a)}
	if customerID == "" {
		return p, nil
	}
	c, err := s.cfg.Customers.FindCustomerByID(ctx, customerID)
	if err != nil {
		return nil, err
	}
	owner, err := s.cfg.Customers.AddressOwner(ctx, a)
	if err != nil {
		return nil, err
	}
	current := customerAddress(c)
	switch {
	case owner == customerID:
		p.Bound = true
	case owner != "":
		p.Problem = "This address is already bound to another customer; it cannot be bound to this one."
	case p.Kind == "wechat" && current.OpenID != "", p.Kind == "phone" && current.Phone != "", p.Kind == "email" && current.Email != "":
		p.Problem = "The customer already has a different address of this kind; change it through a correction."
	}
	return p, nil
}
