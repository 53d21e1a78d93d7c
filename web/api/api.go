// Package api is the JSON API under /api/v1: staff and their scripts, with
// a Bearer token and a role check per route, reach customers, imports,
// transfers, the export and destruction, templates, campaigns, tickets,
// corrections and the compliance records. Its contract is openapi.yaml,
// served at /api/v1/openapi.yaml; a test keeps it in step with the routes.
// It uses the shared kit (web/kit) and is mounted by the server (package
// web). Handlers parse, call one domain method, and respond.
package api

import (
	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/handoverhq/handover/archive"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
	"github.com/handoverhq/handover/web/kit"
)

// API serves /api/v1 with what its handlers call.
type API struct {
	cfg         *config.Config
	staff       *staff.Store
	customers   *customers.Store
	importer    *importer.Importer
	transfers   *transfers.Store
	rights      *rights.Store
	templates   *templates.Store
	devbox      *devbox.Channel
	campaigns   *campaigns.Service
	governance  *governance.Service
	incidents   *incidents.Store
	assessments *assessments.Store
	archive     *archive.Store
	destroy     *lifecycle.Destroyer
	exporter    *lifecycle.Exporter
	links       *links.Store
	tickets     *feedback.Service
	sms         *sms.Channel
	log         *slog.Logger
	auth        *kit.Auth
}

// Deps are what the API uses; the server (package web) passes its own.
type Deps struct {
	Config    *config.Config
	Staff     *staff.Store
	Customers *customers.Store
	Importer  *importer.Importer
	Transfers *transfers.Store
	Rights    *rights.Store
	Templates *templates.Store
	// Devbox is the embedded default channel, nil when real providers are on.
	Devbox      *devbox.Channel
	Campaigns   *campaigns.Service
	Governance  *governance.Service
	Incidents   *incidents.Store
	Assessments *assessments.Store
	Archive     *archive.Store
	// Destroyer runs retention plans; Exporter writes the buyer's package.
	Destroyer *lifecycle.Destroyer
	Exporter  *lifecycle.Exporter
	Links     *links.Store
	Tickets   *feedback.Service
	// SMS, when configured, lists the Aliyun account's approved SMS
	// templates; nil answers that SMS is not configured.
	SMS  *sms.Channel
	Log  *slog.Logger
	Auth *kit.Auth
}

// New builds the API.
func New(d Deps) *API {
	return &API{cfg: d.Config, staff: d.Staff, customers: d.Customers, importer: d.Importer, transfers: d.Transfers, rights: d.Rights,
		templates: d.Templates, devbox: d.Devbox, campaigns: d.Campaigns, governance: d.Governance, incidents: d.Incidents,
		assessments: d.Assessments, archive: d.Archive, destroy: d.Destroyer, exporter: d.Exporter, links: d.Links,
		tickets: d.Tickets, sms: d.SMS, log: d.Log, auth: d.Auth}
}

// Register adds the API's routes to e under /api/v1: the contract for
// anyone, everything else for a valid token whose role allows the route.
func (s *API) Register(e *echo.Echo) {
	api := e.Group("/api/v1")
	api.GET("/openapi.yaml", s.handleOpenAPI)
	authed := api.Group("", s.auth.RequireToken)
	authed.GET("/me", s.handleMe)
	s.registerTokenRoutes(authed)
	s.registerCustomerRoutes(authed)
	s.registerImportRoutes(authed)
	s.registerTransferRoutes(authed)
	s.registerExportRoutes(authed)
	s.registerDestructionRoutes(authed)
	s.registerDevboxRoutes(authed)
	s.registerTemplateRoutes(authed)
	s.registerCampaignRoutes(authed)
	s.registerGovernanceRoutes(authed)
	s.registerReviewRoutes(authed)
	s.registerTransparencyRoutes(authed)
	s.registerIncidentRoutes(authed)
	s.registerAssessmentRoutes(authed)
	s.registerArchiveRoutes(authed)
	s.registerCorrectionRoutes(authed)
	s.registerWeChatBindRoutes(authed)
	s.registerRightsRoutes(authed)
	s.registerLinkRoutes(authed)
	s.registerCampaignPortalRoutes(authed)
	s.registerTicketRoutes(authed)
	s.registerTicketCallRoutes(authed)
}
