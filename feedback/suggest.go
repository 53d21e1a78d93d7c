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
		return &ChannelChoice{Reason: handover.ErrorMessage(err)}, nil
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
	out.Default, out.Reason, err = ChooseChannel(reach)
	if err != nil {
		out.Reason = handover.ErrorMessage(err)
	}
	return out, nil
}
