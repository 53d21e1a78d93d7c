package feedback

import (
	"context"
	"sort"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// ChannelChoice is what a reply form offers: the channel ChooseChannel
// would pick with its reason, and every channel that can carry a reply now.
type ChannelChoice struct {
	Default channels.Name
	Reason  string
	// Usable are the configured channels that can reach the customer now,
	// by name.
	Usable []channels.Name
	// Why is Reason as a code a page translates: last_used,
	// first_reachable, unreachable (no channel can reach the customer)
	// or no_address (an unmatched ticket that kept no sender address).
	Why string
	// Options are WeChat, SMS and email (and the devbox where it is
	// configured), each with why it cannot carry a reply now ("" when it
	// can): what the reply form explains.
	Options []ChannelOption
}

// ChannelOption is one channel of a reply form and, when it cannot carry
// the reply now, why (a Blocked* code).
type ChannelOption struct {
	Name    channels.Name
	Blocked string
}

// SuggestChannel says which channel a reply to the ticket would go out on
// and which others staff may choose. Default is "" (and Reason says why)
// when no channel can reach the customer or the ticket has none yet.
func (s *Service) SuggestChannel(ctx context.Context, ticketID string) (*ChannelChoice, error) {
	t, err := s.FindTicketByID(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	rcp, err := s.recipientOf(ctx, t)
	if handover.ErrorCode(err) == handover.EINVALID {
		return &ChannelChoice{Reason: handover.ErrorMessage(err), Why: "no_address"}, nil
	} else if err != nil {
		return nil, err
	}
	reach, err := s.reachabilityOf(ctx, t, rcp, "")
	if err != nil {
		return nil, err
	}
	out := &ChannelChoice{}
	for name := range reach.Configured {
		if ok, _ := reach.usable(name); ok {
			out.Usable = append(out.Usable, name)
		}
	}
	sort.Slice(out.Usable, func(i, j int) bool { return out.Usable[i] < out.Usable[j] })
	for _, name := range []channels.Name{channels.WeChat, channels.SMS, channels.Email, channels.Devbox} {
		if name != channels.Devbox || reach.Configured[name] {
			out.Options = append(out.Options, ChannelOption{Name: name, Blocked: reach.Blocked(name)})
		}
	}
	out.Default, out.Reason, err = ChooseChannel(reach)
	switch {
	case err != nil:
		out.Reason, out.Why = handover.ErrorMessage(err), "unreachable"
	case out.Default == reach.LastUsed:
		out.Why = "last_used"
	default:
		out.Why = "first_reachable"
	}
	return out, nil
}
