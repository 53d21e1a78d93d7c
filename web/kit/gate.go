package kit

import (
	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/staff"
)

// personalDataRoutes are the routes that show or move customers' personal
// data although their permission is not a personal-data one: starting a
// campaign messages every customer in it, an audience preview counts
// opt-outs and consent, a template preview renders a customer's masked
// name, a destruction or an archive run moves every record. Can gates
// them like staff.Permission.PersonalData: the member must have accepted
// the current confidentiality agreement and passed their role's training.
// A new route must be classified in TestGateCoversEveryPersonalDataRoute,
// which sends each one listed there as personal by a member who has not
// accepted the agreement and expects the gate's 403.
var personalDataRoutes = map[string]bool{
	"POST /api/v1/campaigns":                       true,
	"POST /api/v1/campaigns/:id/schedule":          true,
	"POST /api/v1/campaigns/:id/start":             true,
	"POST /api/v1/campaigns/:id/resume":            true,
	"POST /api/v1/campaigns/:id/test-send":         true,
	"GET /api/v1/campaigns/:id/deliveries":         true,
	"POST /api/v1/campaigns/audience-preview":      true,
	"POST /api/v1/templates/:id/preview":           true,
	"POST /api/v1/transfers/:id/destruction-plans": true,
	"POST /api/v1/destruction-plans/:id/approve":   true,
	"POST /api/v1/destruction-plans/:id/run":       true,
	"POST /api/v1/transfers/:id/archive":           true,
	"GET /api/v1/archive":                          true,
	"POST /api/v1/incidents/:id/notice":            true,
	"GET /campaigns/new":                           true,
	"POST /campaigns":                              true,
	"POST /campaigns/:id/start":                    true,
	"POST /campaigns/:id/resume":                   true,
	"GET /campaigns/:id/edit":                      true,
	"POST /campaigns/:id/edit":                     true,
	"GET /campaigns/:id/deliveries.csv":            true,
	"POST /campaigns/:id/again":                    true,
	"POST /campaigns/:id/test-send":                true,
	"POST /incidents":                              true,
	"POST /incidents/:id/notice":                   true,
	"POST /destruction":                            true,
	"POST /destruction/:id/approve":                true,
	"POST /destruction/:id/run":                    true,
	"POST /templates/:id/preview":                  true,
	"POST /templates/:id/test-send":                true,
}

// gated reports whether the request's route needs the governance gate
// beyond what permission p says.
func gated(c echo.Context, p staff.Permission) bool {
	return p.PersonalData() || personalDataRoutes[c.Request().Method+" "+c.Path()]
}
