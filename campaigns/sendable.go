package campaigns

import (
	"context"

	"github.com/handoverhq/handover"
)

// checkSendable refuses a campaign one of whose templates cannot go out
// through its provider (an SMS template without its approved Aliyun code,
// a WeChat template without its template id, an SMS link on another
// server), naming the template and what is missing: checked when the
// campaign is created, scheduled and started, so a campaign never starts
// only to fail every message.
func (s *Service) checkSendable(ctx context.Context, c *Campaign) error {
	for _, ch := range c.Channels {
		t, err := s.cfg.Templates.FindTemplateByID(ctx, c.Templates[ch])
		if err != nil {
			return err
		}
		if problem := t.Unsendable(s.cfg.PublicURL); problem != "" {
			return handover.Errorf(handover.EINVALID, "This campaign cannot be sent: %s.", problem)
		}
	}
	return nil
}

// checkSendableByID is checkSendable for a stored campaign.
func (s *Service) checkSendableByID(ctx context.Context, id string) error {
	c, err := s.FindCampaignByID(ctx, id)
	if err != nil {
		return err
	}
	return s.checkSendable(ctx, c)
}
