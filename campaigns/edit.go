package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
)

// Update replaces a draft or scheduled campaign's settings with c's (all
// of them, validated as Create does) and audits it. With c.SendAt the
// campaign is scheduled for then, without it it is a draft again. A
// campaign that started (or was cancelled) meanwhile is left alone
// (ECONFLICT); nothing is half-written.
func (s *Service) Update(ctx context.Context, c *Campaign, actor string) error {
	if err := s.validate(ctx, c, true); err != nil {
		return err
	}
	tmpl, rules, rates, qs, qe := c.stored()
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		status := StatusDraft
		if c.SendAt != nil {
			if !c.SendAt.After(tx.Now) {
				return handover.Errorf(handover.EINVALID, "send_at must be in the future")
			}
			status = StatusScheduled
		}
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = $1, transfer_id = $2, kind = $3, status = $4, channels = $5,
			template_ids = $6, audience_tag = $7, audience_region = $8, send_at = $9, updated_at = $10, audience_rules = $11,
			purpose = $12, time_zone = $13, quiet_start = $14, quiet_end = $15, rates = $16
			WHERE id = $17 AND status IN ('draft', 'scheduled')`,
			c.Name, c.TransferID, string(c.Kind), status, joinChannels(c.Channels), tmpl,
			strings.Join(c.Audience.Tags, ","), c.Audience.Region, c.SendAt, tx.Now, rules,
			c.Purpose, c.TimeZone, int64(qs), int64(qe), rates, c.ID)
		if err != nil {
			return fmt.Errorf("update campaign: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			cur, err := s.FindCampaignByID(ctx, c.ID)
			if err != nil {
				return err
			}
			return handover.Errorf(handover.ECONFLICT, "The campaign is %s; only a draft or scheduled campaign can be edited.", cur.Status)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_customers WHERE campaign_id = $1`, c.ID); err != nil {
			return fmt.Errorf("update campaign audience: %w", err)
		}
		if err := insertAudienceList(ctx, tx, c); err != nil {
			return err
		}
		c.Status, c.UpdatedAt = status, tx.Now
		detail := "channels=" + joinChannels(c.Channels)
		if c.SendAt != nil {
			detail += " send_at=" + c.SendAt.Format("2006-01-02T15:04:05Z")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.update", ObjectType: "campaign", ObjectID: c.ID,
			Detail: detail})
	})
}

// AudienceList returns the explicit audience list of a stored campaign
// (campaign_customers), in id order; nil when it has none.
func (s *Service) AudienceList(ctx context.Context, id string) ([]string, error) {
	return s.customerIDs(ctx, `SELECT customer_id FROM campaign_customers WHERE campaign_id = $1 ORDER BY customer_id`, id)
}

// Follow-up audiences: who of a campaign's recipients has not yet done a
// step.
const (
	// NotOpened: sent to, and never opened the personal link.
	NotOpened = "not_opened"
	// NotDecided: sent to, and gave no consent decision from the link.
	NotDecided = "not_decided"
)

// FollowUp returns the customers a campaign was sent to (sent, delivered)
// who did not open its link (NotOpened) or did not decide from it
// (NotDecided), in id order, at most MaxAudienceCustomers.
func (s *Service) FollowUp(ctx context.Context, id, step string) ([]string, error) {
	cond := ""
	switch step {
	case NotOpened:
		cond = `NOT EXISTS (SELECT 1 FROM links l WHERE l.delivery_id = d.id AND l.open_count > 0)`
	case NotDecided:
		cond = `NOT EXISTS (SELECT 1 FROM links l JOIN consent_events e ON e.link_id = l.id WHERE l.delivery_id = d.id)`
	default:
		return nil, handover.Errorf(handover.EINVALID, "step must be %s or %s", NotOpened, NotDecided)
	}
	return s.customerIDs(ctx, `SELECT DISTINCT d.customer_id FROM deliveries d WHERE d.campaign_id = $1
		AND d.status IN ('sent', 'delivered') AND `+cond+` ORDER BY d.customer_id LIMIT `+fmt.Sprint(MaxAudienceCustomers), id)
}

func (s *Service) customerIDs(ctx context.Context, query string, args ...any) ([]string, error) {
	out, err := database.QueryAll(ctx, s.db, database.ScanString, query, args...)
	if err != nil {
		return nil, fmt.Errorf("campaign customers: %w", err)
	}
	return out, nil
}

// PortalSettingsOf returns a campaign's stored portal settings.
func (s *Service) PortalSettingsOf(ctx context.Context, id string) (PortalSettings, error) {
	var def string
	var days int64
	err := s.db.QueryRowContext(ctx, `SELECT survey, link_ttl_days FROM campaigns WHERE id = $1`, id).Scan(&def, &days)
	if err != nil {
		return PortalSettings{}, database.MapError(err)
	}
	sv, err := links.ParseSurvey(def)
	if err != nil {
		return PortalSettings{}, err
	}
	return PortalSettings{Survey: sv, LinkTTLDays: int(days)}, nil
}

// CheckPortalSettings reports what SetPortalSettings would refuse, so a
// form can check it before it stores anything.
func CheckPortalSettings(ps PortalSettings) error {
	if ps.LinkTTLDays < 0 || ps.LinkTTLDays > 366 {
		return handover.Errorf(handover.EINVALID, "link_ttl_days must be from 1 to 366 (0: the default).")
	}
	b, _ := json.Marshal(ps.Survey)
	_, err := links.ParseSurvey(string(b))
	return err
}
