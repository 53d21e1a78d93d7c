package campaigns

import (
	"context"
	"fmt"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/templates"
)

// TestSendResult says where a test message went.
type TestSendResult struct {
	Channel    channels.Name
	Template   string
	Version    int
	ProviderID string
}

// TestSend sends the campaign's message once to a staff member's own
// contact, rendered with the campaign's transfer and a sample customer
// (name is the staff member's) and a sample link. It goes by email, on the
// campaign's email template, when the campaign has one and to has an email
// address; otherwise to the devbox, when configured (embedded mode), on the
// campaign's first template. It writes no delivery row, so it is not in the
// campaign's stats, and audits the send.
func (s *Service) TestSend(ctx context.Context, id string, to channels.Address, name, actor string) (*TestSendResult, error) {
	c, err := s.FindCampaignByID(ctx, id)
	if err != nil {
		return nil, err
	}
	via, tmplCh := channels.Name(""), channels.Name("")
	for _, ch := range c.Channels {
		if ch == channels.Email && to.Email != "" {
			via, tmplCh = ch, ch
		}
	}
	if via == "" && s.cfg.Channels[channels.Devbox] != nil {
		via, tmplCh = channels.Devbox, c.Channels[0]
	}
	if via == "" {
		return nil, handover.Errorf(handover.EINVALID, "No channel of this campaign reaches you: it needs an email channel and your email address, or the devbox.")
	}
	t, err := s.cfg.Templates.FindTemplateByID(ctx, c.Templates[tmplCh])
	if err != nil {
		return nil, err
	}
	tr, err := s.cfg.Customers.FindTransferByID(ctx, c.TransferID)
	if err != nil {
		return nil, err
	}
	v := t.Latest()
	link := s.cfg.PublicURL + "/l/test"
	r, err := s.cfg.Templates.Render(ctx, v, templates.NewData(&customers.Customer{Name: name}, tr, link, "", v.Locale))
	if err != nil {
		return nil, err
	}
	if r.Subject != "" {
		r.Subject = "[TEST] " + r.Subject
	}
	msg := channels.Message{DeliveryID: "test-" + ulid.Make().String(), Kind: channels.Notice, To: to,
		Subject: r.Subject, Text: r.Text, HTML: r.HTML, Link: link, Template: r.Provider}
	res := s.cfg.Channels[via].Send(ctx, []channels.Message{msg})
	if len(res) != 1 {
		return nil, handover.Errorf(handover.EUNAVAILABLE, "The test message could not be sent.")
	}
	if res[0].Err != nil {
		s.log.Warn("campaign test send failed", "campaign_id", id, "channel", string(via), "class", fmt.Sprint(channels.Classify(res[0].Err)))
		return nil, handover.Errorf(handover.EUNAVAILABLE, "The test message could not be sent by %s; try again later.", via)
	}
	out := &TestSendResult{Channel: via, Template: t.ID, Version: v.Number, ProviderID: res[0].ProviderID}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.test_send", ObjectType: "campaign", ObjectID: id,
			Detail: fmt.Sprintf("channel=%s template=%s version=%d", via, t.ID, v.Number)})
	})
	return out, err
}
