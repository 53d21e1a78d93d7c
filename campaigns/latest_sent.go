package campaigns

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/database"
)

// contactColumn is the customers' blind index a channel's address is
// kept under; "" for a channel that may use any (the devbox).
var contactColumn = map[channels.Name]string{channels.SMS: "phone_idx", channels.Email: "email_idx", channels.WeChat: "openid_idx"}

// LatestSent finds the latest campaign message sent on channel to the
// customer whose contact on it has blind index idx, under sender (the SMS
// sign name: the template version's, else Config.SMSSignName; "" matches
// any). It is the sent log's source for campaign sends (channels.SentLog
// Consult), which are not logged: a reply to one is tied to it through
// its delivery row, found by the customer's index and their handful of
// deliveries.
func (s *Service) LatestSent(ctx context.Context, channel channels.Name, idx, sender string) (channels.Sent, error) {
	if sender != "" && channel != channels.SMS {
		// Only SMS go out under a sender; a reply that names one on
		// another channel (WeChat names the official account) matches
		// none, as in the log, which records no sender for them.
		return channels.Sent{}, nil
	}
	match := `c.phone_idx = $1 OR c.email_idx = $1 OR c.openid_idx = $1`
	if col := contactColumn[channel]; col != "" {
		match = `c.` + col + ` = $1`
	}
	q := `SELECT d.id, d.customer_id, d.sent_at FROM customers c JOIN deliveries d ON d.customer_id = c.id
		LEFT JOIN template_versions v ON v.template_id = d.template_id AND v.version = d.template_version
		WHERE (` + match + `) AND d.channel = $2 AND d.sent_at IS NOT NULL`
	args := []any{idx, string(channel)}
	if sender != "" {
		q += ` AND COALESCE(NULLIF(v.sign_name, ''), $3) = $4`
		args = append(args, s.cfg.SMSSignName, sender)
	}
	sent, err := database.QueryOne(ctx, s.db, func(row database.Scanner) (channels.Sent, error) {
		var sent channels.Sent
		err := row.Scan(&sent.DeliveryID, &sent.CustomerID, &sent.At)
		return sent, err
	}, q+` ORDER BY d.sent_at DESC, d.id DESC LIMIT 1`, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return channels.Sent{}, nil
	} else if err != nil {
		return channels.Sent{}, fmt.Errorf("latest campaign message: %w", err)
	}
	return sent, nil
}
