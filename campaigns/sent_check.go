package campaigns

import (
	"context"
	"time"

	"github.com/handoverhq/handover/channels"
)

// SentChecker is a channel that can tell whether a message went out when
// the answer to its send was lost (the SMS channel, through Aliyun's
// QuerySendDetails): a provider without an idempotency key.
type SentChecker interface {
	WasSent(ctx context.Context, m channels.Message, after, before time.Time) (bool, error)
}

// lostSendWindow is how long before a row's last recorded try its send may
// have gone out: a batch task's timeout and then some.
const lostSendWindow = 6 * time.Minute

// checkRetried asks the row's channel, where it can tell (Config.
// SentCheckers), whether each row that failed before (a transient error:
// the answer may have been lost after the provider took the message) went
// out after all. A row that did is recorded sent without sending it again;
// one the check cannot answer for stays queued for a later try. The rows
// left to send are returned by channel.
func (s *Service) checkRetried(ctx context.Context, rows []claimed, msgs []channels.Message, out []outcome,
	byChannel map[channels.Name][]int) map[channels.Name][]int {
	for ch, idxs := range byChannel {
		checker := s.cfg.SentCheckers[ch]
		if checker == nil {
			continue
		}
		keep := idxs[:0]
		for _, i := range idxs {
			d := rows[i]
			if d.attempts == 0 {
				keep = append(keep, i)
				continue
			}
			sent, err := checker.WasSent(ctx, msgs[i], d.updated.Add(-lostSendWindow), d.updated)
			switch {
			case err != nil:
				out[i] = outcome{retry: true, errMsg: "earlier send unconfirmed: provider check failed"}
			case sent:
				// Its link was stored with the earlier try (record).
				out[i] = outcome{status: channels.StatusSent}
				s.log.Info("campaign delivery found sent by the provider; not sent again", "delivery_id", d.id)
			default:
				keep = append(keep, i)
			}
		}
		byChannel[ch] = keep
	}
	return byChannel
}
