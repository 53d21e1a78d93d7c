package campaigns

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
)

// SetSurvey sets what the portal's survey asks the campaign's recipients
// (links.Survey; the zero value is NPS and free text) and audits it.
func (s *Service) SetSurvey(ctx context.Context, id string, sv links.Survey, actor string) (links.Survey, error) {
	b, _ := json.Marshal(sv)
	parsed, err := links.ParseSurvey(string(b))
	if err != nil {
		return links.Survey{}, err
	}
	b, _ = json.Marshal(parsed)
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaigns SET survey = $1, updated_at = $2 WHERE id = $3`, string(b), tx.Now, id)
		if err != nil {
			return fmt.Errorf("set survey: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return handover.Errorf(handover.ENOTFOUND, "Campaign not found.")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.survey", ObjectType: "campaign", ObjectID: id, Detail: string(b)})
	})
	return parsed, err
}
