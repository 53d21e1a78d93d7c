package kit

import (
	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
)

// CampaignProgress loads the campaign named in the path, its progress
// counters (campaigns.Service.Progress) and its pace, for the dashboard's
// poll and the API's.
func CampaignProgress(c echo.Context, cs *campaigns.Service) (*campaigns.Campaign, map[channels.DeliveryStatus]int, *campaigns.Pace, error) {
	ctx := c.Request().Context()
	cp, err := cs.FindCampaignByID(ctx, c.Param("id"))
	if err != nil {
		return nil, nil, nil, err
	}
	counts, err := cs.Progress(ctx, cp.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	pace, err := cs.Pace(ctx, cp, counts[channels.StatusQueued])
	return cp, counts, pace, err
}
