package campaigns

import (
	"context"
	"fmt"
	"strings"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/templates"
)

// ReasonCustomerOptedOut is the skip reason of rows suppressed because the
// customer opted out after planning.
const ReasonCustomerOptedOut SkipReason = "customer_opted_out"

// optOutKeywords are the replies that opt a customer out (trimmed,
// case-insensitive).
var optOutKeywords = map[string]bool{"退订": true, "td": true, "t": true, "unsubscribe": true, "stop": true}

// IsOptOut reports whether a customer's message text asks to opt out.
func IsOptOut(text string) bool {
	return optOutKeywords[strings.ToLower(strings.TrimSpace(text))]
}

// HandleInboundEvent applies what a provider told us to the campaigns: a
// receipt or bounce moves its delivery forward to delivered, failed or
// bounced (never back, so a repeated or late receipt changes nothing), and
// a known customer's opt-out reply suppresses their unsent deliveries that
// it stops (customers.ReplyOptOutKinds on the channel they wrote on; the
// feedback service records the opt-out). It is the Inbox's OnEvent seam.
func (s *Service) HandleInboundEvent(ctx context.Context, ev channels.InboundEvent) error {
	switch ev.Kind {
	case channels.EventReceipt, channels.EventBounce:
		return s.applyReceipt(ctx, ev)
	case channels.EventMessage:
		if ev.CustomerID == "" || !IsOptOut(ev.Text) {
			return nil
		}
		n, err := s.SuppressOptOuts(ctx, ev.CustomerID, customers.OptOutsOf(ev.Channel, customers.ReplyOptOutKinds), ReasonCustomerOptedOut)
		if err != nil {
			return err
		}
		s.log.Info("customer opted out by reply", "customer_id", ev.CustomerID, "channel", string(ev.Channel), "suppressed", n)
	}
	return nil
}

func (s *Service) applyReceipt(ctx context.Context, ev channels.InboundEvent) error {
	status := ev.ReceiptStatus()
	if status == "" {
		return nil // a status we do not track
	}
	msg := ""
	if status != channels.StatusDelivered {
		msg = "receipt: " + status.String()
		if ev.ErrorCode != "" {
			msg += " (" + truncate(ev.ErrorCode, 64) + ")"
		}
	}
	now := s.db.Now()
	if ev.DeliveryID != "" {
		// A receipt may come before the sender recorded "sent" (the row is
		// still queued, its batch leased); record then keeps the receipt's
		// status. A queued row of a batch nobody holds was not sent.
		_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET status = $1, error = $2, updated_at = $3
			WHERE id = $4 AND channel = $5 AND (status = 'sent' OR (status = 'queued' AND EXISTS (SELECT 1 FROM campaign_batches b
				WHERE b.campaign_id = deliveries.campaign_id AND b.batch = deliveries.batch AND b.lease_until IS NOT NULL)))`,
			status, msg, now, ev.DeliveryID, string(ev.Channel))
		if err != nil {
			return fmt.Errorf("delivery receipt: %w", err)
		}
		return nil
	}
	if ev.ProviderMessageID == "" {
		return nil
	}
	// A batch send shares one provider id among its rows (Aliyun's BizId
	// for up to 100 numbers): the customer the receipt's sender matched
	// picks the row; unmatched, only a provider id of one row applies.
	// provider_id <> '' lets the partial index deliveries_provider serve.
	_, err := s.db.ExecContext(ctx, `UPDATE deliveries SET status = $1, error = $2, updated_at = $3
		WHERE provider_id = $4 AND provider_id <> '' AND channel = $5 AND status = 'sent'
			AND (customer_id = $6 OR ($6 = '' AND NOT EXISTS (SELECT 1 FROM deliveries d
				WHERE d.provider_id = $4 AND d.provider_id <> '' AND d.channel = $5 AND d.id <> deliveries.id)))`,
		status, msg, now, ev.ProviderMessageID, string(ev.Channel), ev.CustomerID)
	if err != nil {
		return fmt.Errorf("delivery receipt: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// SuppressCustomer suppresses, with reason, the customer's unsent
// deliveries (planned or queued) in campaigns that are scheduled, running
// or paused; batches skip suppressed rows. Rows being sent at that moment
// still finish. It returns how many rows it suppressed.
func (s *Service) SuppressCustomer(ctx context.Context, customerID string, reason SkipReason) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'suppressed', skip_reason = $1, updated_at = $2
			WHERE customer_id = $3 AND status IN ('planned', 'queued') AND campaign_id IN
			(SELECT id FROM campaigns WHERE status IN ('scheduled', 'running', 'paused'))`, reason, tx.Now, customerID)
		if err != nil {
			return fmt.Errorf("suppress customer deliveries: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return int(n), err
}

// SuppressConsent suppresses, with reason consent_withdrawn, the
// customer's unsent deliveries in scheduled, running or paused campaigns
// of the transfer that need consent for purpose (Campaign.Purpose, on a
// consent-dependent kind). The portal calls it after recording a
// withdrawal (or a decline); notices the law requires keep going. It
// returns how many rows it suppressed.
func (s *Service) SuppressConsent(ctx context.Context, customerID, transferID, purpose string) (int, error) {
	var n int64
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		n, err = s.SuppressConsentTx(ctx, tx, customerID, transferID, purpose)
		return err
	})
	return int(n), err
}

// SuppressConsentTx is SuppressConsent inside the caller's transaction, so
// the withdrawal and the suppression commit together.
func (s *Service) SuppressConsentTx(ctx context.Context, tx *database.Tx, customerID, transferID, purpose string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'suppressed', skip_reason = $1, updated_at = $2
		WHERE customer_id = $3 AND status IN ('planned', 'queued') AND campaign_id IN
		(SELECT id FROM campaigns WHERE status IN ('scheduled', 'running', 'paused') AND transfer_id = $4 AND purpose = $5
			AND kind NOT IN ($6, $7))`,
		ReasonConsentWithdrew, tx.Now, customerID, transferID, purpose, string(templates.TransferNotice), string(templates.IncidentNotice))
	if err != nil {
		return 0, fmt.Errorf("suppress customer deliveries: %w", err)
	}
	return res.RowsAffected()
}
