package feedback

import (
	"context"
	"strings"
)

// sendSurvey sends a resolved ticket's customer a satisfaction-survey
// link on the channel a reply would take, recorded on the ticket as a
// system message (it leaves the ticket resolved). A failure is logged:
// the resolution stands either way.
func (s *Service) sendSurvey(ctx context.Context, t *Ticket) {
	err := func() error {
		c, err := s.cfg.Customers.FindCustomerByID(ctx, t.CustomerID)
		if err != nil {
			return err
		}
		link, err := s.cfg.SurveyLink(ctx, c.ID)
		if err != nil {
			return err
		}
		reach, err := s.reachability(ctx, c, t.Channel, "")
		if err != nil {
			return err
		}
		ch, reason, err := ChooseChannel(reach)
		if err != nil {
			return err
		}
		text := "您的问题已处理完毕。欢迎花一分钟评价我们的服务：" + link
		if strings.HasPrefix(c.Locale, "en") {
			text = "Your request is resolved. Please take a minute to rate our service: " + link
		}
		_, err = s.deliver(ctx, t, c, ch, reason+"; satisfaction survey after resolving", text, "")
		return err
	}()
	if err != nil {
		s.log.Warn("satisfaction survey not sent", "ticket_id", t.ID, "err", err)
	}
}
