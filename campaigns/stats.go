package campaigns

import (
	"context"
	"fmt"

	"github.com/handoverhq/handover/database"
)

// Funnel counts a campaign's links by how far the customer went: opened
// the link, gave or declined (or withdrew) consent from it, sent a
// correction from it (confirmed: pending, approved or rejected), answered
// its survey. A link counts once per step; one link can both grant one
// purpose and decline another.
type Funnel struct {
	Links     int `json:"links"`
	Opened    int `json:"opened"`
	Consented int `json:"consented"`
	Declined  int `json:"declined"`
	Corrected int `json:"corrected"`
	Surveyed  int `json:"surveyed"`
}

func (f *Funnel) add(o Funnel) {
	f.Links += o.Links
	f.Opened += o.Opened
	f.Consented += o.Consented
	f.Declined += o.Declined
	f.Corrected += o.Corrected
	f.Surveyed += o.Surveyed
}

// funnel fills st.Funnel and st.FunnelByChannel with one GROUP BY over the
// campaign's links (index links_campaign), each step an index lookup by
// link id (migration 0017).
func (s *Service) funnel(ctx context.Context, id string, st *Stats) error {
	st.FunnelByChannel = map[string]Funnel{}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var ch string
		var f Funnel
		if err := row.Scan(&ch, &f.Links, &f.Opened, &f.Consented, &f.Declined, &f.Corrected, &f.Surveyed); err != nil {
			return err
		}
		st.Funnel.add(f)
		if ch != "" {
			c := st.FunnelByChannel[ch]
			c.add(f)
			st.FunnelByChannel[ch] = c
		}
		return nil
	}, `SELECT COALESCE(d.channel, ''), COUNT(*),
		SUM(CASE WHEN l.open_count > 0 THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM consent_events e WHERE e.link_id = l.id AND e.decision = 'granted') THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM consent_events e WHERE e.link_id = l.id AND e.decision IN ('declined', 'withdrawn')) THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM correction_requests r WHERE r.link_id = l.id AND r.status IN ('pending', 'approved', 'rejected')) THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM survey_answers a WHERE a.link_id = l.id) THEN 1 ELSE 0 END)
		FROM links l LEFT JOIN deliveries d ON d.id = l.delivery_id
		WHERE l.campaign_id = $1 GROUP BY d.channel`, id)
	if err != nil {
		return fmt.Errorf("campaign funnel: %w", err)
	}
	return nil
}
