package app

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/web"
)

// OpenServices connects to Redis (or starts the embedded server) unless
// Queue is set, then builds the channels and inbox, campaigns, governance
// and tickets on the open stores. Call it after OpenStores.
func (a *App) OpenServices(ctx context.Context) error {
	if a.Queue == nil {
		q, err := queue.Open(ctx, a.Config.RedisURL, a.Log)
		if err != nil {
			return err
		}
		a.Queue, a.closeQueue = q, true
	}
	if err := a.openChannels(); err != nil {
		return err
	}
	a.openCampaigns()
	return a.openTickets()
}

// openCampaigns builds the campaigns service on the open stores, queue and
// channels.
func (a *App) openCampaigns() {
	cfg := campaigns.Config{DB: a.DB, Queue: a.Queue, Customers: a.Customers, Templates: a.Templates, Transfers: a.Transfers,
		Channels: a.Channels, PublicURL: a.Config.PublicURL, LinkTTL: a.Config.LinkTTL, Log: a.Log, Lease: a.Config.CampaignLease,
		Limiter: a.Limiter, Sent: a.Sent, SMSSignName: a.Config.Channels.SMSSignName}
	if a.SMS != nil {
		cfg.SentCheckers = map[channels.Name]campaigns.SentChecker{channels.SMS: a.SMS}
	}
	if a.SMS != nil && a.Config.SMSReceiptPoll > 0 {
		cfg.SMSReceipts, cfg.ReceiptPoll = a.SMS, a.Config.SMSReceiptPoll
		cfg.CountReceipt = a.Inbox.CountReceipt
	}
	a.Campaigns = campaigns.New(cfg)
	a.Governance = governance.New(a.DB, governance.Config{AgreementPeriod: a.Config.AgreementPeriod, ReviewEvery: a.Config.AccessReviewEvery})
}

// openTickets builds the feedback tickets service on the open stores,
// queue and channels.
func (a *App) openTickets() error {
	cal := feedback.DefaultCalendar()
	if err := cal.SetHolidays(a.Config.TicketHolidays); err != nil {
		return err
	}
	a.Tickets = feedback.New(feedback.Config{DB: a.DB, Vault: a.Vault, Queue: a.Queue, Customers: a.Customers, Transfers: a.Transfers, Channels: a.Channels,
		Calendar: cal, ReopenWindow: time.Duration(a.Config.TicketReopenDays) * 24 * time.Hour,
		SMSReplyTemplate: a.Config.TicketSMSTemplate, SurveyLink: a.surveyLink(), Log: a.Log})
	return nil
}

// surveyLink makes the satisfaction-survey link sent after a ticket is
// resolved (HANDOVER_TICKET_CSAT): a personal link for 7 days under the
// newest transfer asking the configured score
// (HANDOVER_TICKET_SURVEY_SCORE), nil when the survey is off.
func (a *App) surveyLink() func(ctx context.Context, customerID string) (string, error) {
	if !a.Config.TicketCSAT {
		return nil
	}
	return func(ctx context.Context, customerID string) (string, error) {
		transfers, err := a.Transfers.FindTransfers(ctx)
		if err != nil {
			return "", err
		}
		if len(transfers) == 0 {
			return "", fmt.Errorf("no transfer to bind the survey link to")
		}
		token, l, err := a.Links.Issue(ctx, links.IssueRequest{CustomerID: customerID, TransferID: transfers[0].ID,
			TTL: 7 * 24 * time.Hour, Actor: "system"})
		if err != nil {
			return "", err
		}
		sv := links.Survey{CSAT: a.Config.TicketSurveyScore == "csat", NPS: a.Config.TicketSurveyScore == "nps"}
		if err := a.Links.SetLinkSurvey(ctx, l.ID, sv); err != nil {
			return "", err
		}
		return a.Config.PublicURL + "/l/" + token + "/survey", nil
	}
}

// WebDeps are the HTTP server's deps; metrics are the process's own
// collectors (the audit chain monitor's) served besides the inbox's and
// the rate limiter's.
func (a *App) WebDeps(metrics ...prometheus.Collector) web.Deps {
	return web.Deps{Metrics: append(metrics, a.Inbox.Collector(), a.Inbox.Counters(), a.Limiter.Metrics), Config: a.Config, DB: a.DB,
		Queue: a.Queue, Staff: a.Staff, Customers: a.Customers, Importer: a.Importer, Transfers: a.Transfers, Rights: a.Rights, Templates: a.Templates, Hooks: a.hooks(),
		Devbox: a.Devbox, Campaigns: a.Campaigns, Governance: a.Governance, Incidents: a.Incidents, Assessments: a.Assessments,
		Archive: a.Archive, Destroyer: a.Destroyer, Exporter: a.Exporter, Links: a.Links, RecordEvent: a.Inbox.Record,
		WeChat: a.WeChat, Tickets: a.Tickets, SMS: a.SMS, SendCode: a.SendCode, Log: a.Log}
}

// Register adds every background task handler to the worker's mux.
func (a *App) Register(mux *asynq.ServeMux) {
	a.Inbox.Register(mux)
	a.Campaigns.Register(mux)
	a.Governance.Register(mux)
	a.Destroyer.Register(mux)
	a.Tickets.Register(mux)
}

// WorkerQueues are the default queues plus one send queue per channel.
func (a *App) WorkerQueues() map[string]int {
	qs := queue.DefaultQueues()
	for name, w := range campaigns.Queues(a.Channels) {
		qs[name] = w
	}
	return qs
}

// WorkerCounters are a worker process's own counters, served on
// HANDOVER_METRICS_ADDR when it runs without the API.
func (a *App) WorkerCounters() []prometheus.Collector {
	return []prometheus.Collector{a.Campaigns.SendCounters(), a.Inbox.Counters(), a.Limiter.Metrics}
}
