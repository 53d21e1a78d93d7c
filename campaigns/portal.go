package campaigns

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
)

// PortalSettings are what a campaign's personal links lead to.
type PortalSettings struct {
	// Survey is what the portal's survey asks (the zero value: NPS and
	// free text).
	Survey links.Survey
	// LinkTTLDays is how long the links sent from now on live; 0 means
	// the configured default (HANDOVER_LINK_TTL).
	LinkTTLDays int
}

// SetPortalSettings stores the campaign's portal settings and audits them.
func (s *Service) SetPortalSettings(ctx context.Context, id string, ps PortalSettings, actor string) (PortalSettings, error) {
	if ps.LinkTTLDays < 0 || ps.LinkTTLDays > 366 {
		return PortalSettings{}, handover.Errorf(handover.EINVALID, "link_ttl_days must be from 1 to 366 (0: the default).")
	}
	b, _ := json.Marshal(ps.Survey)
	sv, err := links.ParseSurvey(string(b))
	if err != nil {
		return PortalSettings{}, err
	}
	ps.Survey = sv
	b, _ = json.Marshal(sv)
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET survey = $1, link_ttl_days = $2, updated_at = $3 WHERE id = $4`,
			string(b), int64(ps.LinkTTLDays), tx.Now, id)
		if err != nil {
			return fmt.Errorf("set portal settings: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Campaign not found.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.portal", ObjectType: "campaign", ObjectID: id,
			Detail: fmt.Sprintf("survey=%s link_ttl_days=%d", b, ps.LinkTTLDays)})
	})
	return ps, err
}

// linkTTL is how long the links a batch of the campaign sends live.
func (s *Service) linkTTL(ctx context.Context, id string) (time.Duration, error) {
	var days int64
	if err := s.db.QueryRowContext(ctx, `SELECT link_ttl_days FROM campaigns WHERE id = $1`, id).Scan(&days); err != nil {
		return 0, fmt.Errorf("campaign link ttl: %w", err)
	}
	if days <= 0 {
		return s.cfg.LinkTTL, nil
	}
	return time.Duration(days) * 24 * time.Hour, nil
}
