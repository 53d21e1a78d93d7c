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
	"github.com/handoverhq/handover/transfers"
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
	tr, err := s.transfers.FindTransferByID(ctx, c.TransferID)
	if err != nil {
		return nil, err
	}
	return s.testSend(ctx, t, tr, via, to, name, actor, "campaign", id)
}

// TestSendTemplate sends a template's latest version once to a staff
// member's own contact, rendered with transferID's transfer (the sample
// transfer when "") and a sample customer named name: an email template by
// email, any template to the devbox when it is configured. It writes no
// delivery row and audits the send.
func (s *Service) TestSendTemplate(ctx context.Context, templateID, transferID string, to channels.Address, name, actor string) (*TestSendResult, error) {
	t, err := s.cfg.Templates.FindTemplateByID(ctx, templateID)
	if err != nil {
		return nil, err
	}
	var via channels.Name
	switch {
	case t.Channel == channels.Email && to.Email != "" && s.cfg.Channels[channels.Email] != nil:
		via = channels.Email
	case s.cfg.Channels[channels.Devbox] != nil:
		via = channels.Devbox
	default:
		return nil, handover.Errorf(handover.EINVALID, "A test of a %s template can go only to the devbox, which is not configured; the preview shows what customers get.", t.Channel)
	}
	var tr *transfers.Transfer
	if transferID != "" {
		if tr, err = s.transfers.FindTransferByID(ctx, transferID); err != nil {
			return nil, err
		}
	}
	return s.testSend(ctx, t, tr, via, to, name, actor, "template", templateID)
}

// testSend renders t's latest version for a sample customer named name and
// sends it once by via, auditing the send against the object it tests.
func (s *Service) testSend(ctx context.Context, t *templates.Template, tr *transfers.Transfer, via channels.Name, to channels.Address,
	name, actor, objectType, objectID string) (*TestSendResult, error) {
	v := t.Latest()
	link := s.cfg.PublicURL + "/l/test"
	data := templates.NewData(&customers.Customer{Name: name}, tr, link, "", v.Locale)
	if tr == nil {
		data.Transfer = templates.SampleData(v.Locale).Transfer
	}
	r, err := s.cfg.Templates.Render(ctx, v, data)
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
		s.log.Warn("test send failed", objectType+"_id", objectID, "channel", string(via), "class", fmt.Sprint(channels.Classify(res[0].Err)))
		return nil, handover.Errorf(handover.EUNAVAILABLE, "The test message could not be sent by %s; try again later.", via)
	}
	out := &TestSendResult{Channel: via, Template: t.ID, Version: v.Number, ProviderID: res[0].ProviderID}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: objectType + ".test_send", ObjectType: objectType, ObjectID: objectID,
			Detail: fmt.Sprintf("channel=%s template=%s version=%d", via, t.ID, v.Number)})
	})
	return out, err
}
