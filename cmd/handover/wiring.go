package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/campaigns"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/sms"
	"github.com/handoverhq/handover/channels/wechat"
	"github.com/handoverhq/handover/config"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/feedback"
	"github.com/handoverhq/handover/governance"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// Main holds everything a command may need, built in dependency order:
// config → log → database → keys → queue → stores. Nothing is global.
type Main struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Environ        []string

	Config    *config.Config
	Log       *slog.Logger
	DB        *database.DB
	Vault     *pii.Vault
	Queue     *queue.Queue
	Staff     *staff.Store
	Customers *customers.Store
	Importer  *importer.Importer
	Transfers *transfers.Store
	Rights    *rights.Store
	Templates *templates.Store
	Links     *links.Store
	Inbox     *channels.Inbox
	Channels  map[channels.Name]channels.Channel
	// Limiter keeps the send rates shared by every worker (channels' and
	// campaigns'), counting its waits.
	Limiter *channels.Limiter
	WeChat  *wechat.Channel
	// SMS is the Aliyun channel unwrapped, for receipt polling.
	SMS       *sms.Channel
	Devbox    *devbox.Channel
	Campaigns *campaigns.Service
	// Governance gates personal data and keeps access reviews.
	Governance *governance.Service
	// Tickets turns replies into feedback tickets staff work.
	Tickets *feedback.Service
}

// loadConfig reads the configuration and builds the logger.
func (m *Main) loadConfig() error {
	cfg, err := config.Load(m.Environ)
	if err != nil {
		return err
	}
	m.Config = cfg
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		m.Log = slog.New(slog.NewJSONHandler(m.Stderr, opts))
	} else {
		m.Log = slog.New(slog.NewTextHandler(m.Stderr, opts))
	}
	return nil
}

// openStores opens and migrates the database, loads the keys and builds
// the domain stores.
func (m *Main) openStores(ctx context.Context) error {
	if m.Config == nil {
		if err := m.loadConfig(); err != nil {
			return err
		}
	}
	db, err := database.Open(ctx, m.Config.DatabaseURL, m.Config.DataDir)
	if err != nil {
		return err
	}
	m.DB = db
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := m.unsealMasterKey(); err != nil {
		return err
	}
	current, previous, generated, err := m.Config.MasterKeys()
	if err != nil {
		return err
	}
	if generated {
		m.Log.Warn("GENERATED A NEW MASTER KEY: back up this file; without it the personal data in this database cannot be read",
			"path", filepath.Join(m.Config.DataDir, "master.key"))
	}
	keys, err := pii.NewKeyring(current, previous...)
	if err != nil {
		return err
	}
	if m.Vault, err = pii.OpenVault(ctx, db, keys); err != nil {
		return err
	}
	if err := audit.UseKey(ctx, db, m.Vault.Index.DeriveKey(audit.KeyPurpose)); err != nil {
		return err
	}
	m.Staff = staff.NewStore(db)
	m.Customers = customers.NewStore(db, m.Vault)
	m.Transfers = transfers.NewStore(db)
	m.Rights = rights.NewStore(m.Customers)
	m.Importer = importer.New(m.Customers, filepath.Join(m.Config.DataDir, "imports"), m.Log)
	m.Importer.MaxRows, m.Importer.RejectStop = m.Config.ImportMaxRows, m.Config.ImportRejectStop
	m.Importer.MaxUnzippedBytes = m.Config.ImportMaxUnzippedMB << 20
	m.Templates = templates.NewStore(db, m.Customers)
	m.Templates.SetPortalURL(m.Config.PublicURL)
	m.Links = links.NewStore(db, m.Vault, m.Customers, m.Config.LinkTTL)
	return nil
}

// openQueue connects to Redis, or starts the embedded server.
func (m *Main) openQueue(ctx context.Context) error {
	q, err := queue.Open(ctx, m.Config.RedisURL, m.Log)
	if err != nil {
		return err
	}
	m.Queue = q
	return nil
}

// Close releases what was opened, in reverse order.
func (m *Main) Close() {
	if m.Importer != nil {
		m.Importer.Wait()
	}
	if m.Queue != nil {
		if err := m.Queue.Close(); err != nil {
			m.Log.Warn("close queue", "err", err)
		}
	}
	if m.DB != nil {
		m.DB.Close()
	}
}

// openCampaigns builds the campaigns service on the open stores, queue and
// channels.
func (m *Main) openCampaigns() {
	cfg := campaigns.Config{DB: m.DB, Queue: m.Queue, Customers: m.Customers, Templates: m.Templates,
		Channels: m.Channels, PublicURL: m.Config.PublicURL, LinkTTL: m.Config.LinkTTL, Log: m.Log, Lease: m.Config.CampaignLease,
		Limiter: m.Limiter}
	if m.SMS != nil {
		cfg.SentCheckers = map[channels.Name]campaigns.SentChecker{channels.SMS: m.SMS}
	}
	if m.SMS != nil && m.Config.SMSReceiptPoll > 0 {
		cfg.SMSReceipts, cfg.ReceiptPoll = m.SMS, m.Config.SMSReceiptPoll
		if m.Inbox != nil {
			cfg.CountReceipt = m.Inbox.CountReceipt
		}
	}
	m.Campaigns = campaigns.New(cfg)
	m.Governance = governance.New(m.DB, governance.Config{AgreementPeriod: m.Config.AgreementPeriod, ReviewEvery: m.Config.AccessReviewEvery})
}

// openTickets builds the feedback tickets service on the open stores,
// queue and channels.
func (m *Main) openTickets() error {
	cal := feedback.DefaultCalendar()
	if err := cal.SetHolidays(m.Config.TicketHolidays); err != nil {
		return err
	}
	m.Tickets = feedback.New(feedback.Config{DB: m.DB, Vault: m.Vault, Queue: m.Queue, Customers: m.Customers, Channels: m.Channels,
		Calendar: cal, ReopenWindow: time.Duration(m.Config.TicketReopenDays) * 24 * time.Hour,
		SMSReplyTemplate: m.Config.TicketSMSTemplate, SurveyLink: m.surveyLink(), Log: m.Log})
	return nil
}

// surveyLink makes the satisfaction-survey link sent after a ticket is
// resolved (HANDOVER_TICKET_CSAT): a personal link for 7 days under the
// newest transfer asking the configured score
// (HANDOVER_TICKET_SURVEY_SCORE), nil when the survey is off.
func (m *Main) surveyLink() func(ctx context.Context, customerID string) (string, error) {
	if !m.Config.TicketCSAT {
		return nil
	}
	return func(ctx context.Context, customerID string) (string, error) {
		transfers, err := m.Transfers.FindTransfers(ctx)
		if err != nil {
			return "", err
		}
		if len(transfers) == 0 {
			return "", fmt.Errorf("no transfer to bind the survey link to")
		}
		token, l, err := m.Links.Issue(ctx, links.IssueRequest{CustomerID: customerID, TransferID: transfers[0].ID,
			TTL: 7 * 24 * time.Hour, Actor: "system"})
		if err != nil {
			return "", err
		}
		sv := links.Survey{CSAT: m.Config.TicketSurveyScore == "csat", NPS: m.Config.TicketSurveyScore == "nps"}
		if err := m.Links.SetLinkSurvey(ctx, l.ID, sv); err != nil {
			return "", err
		}
		return m.Config.PublicURL + "/l/" + token + "/survey", nil
	}
}

// workerQueues are the default queues plus one send queue per channel.
func (m *Main) workerQueues() map[string]int {
	qs := queue.DefaultQueues()
	for name, w := range campaigns.Queues(m.Channels) {
		qs[name] = w
	}
	return qs
}

// metrics are the collectors of this process's figures that web.Deps
// does not reach itself (docs/metrics.md).
func (m *Main) metrics() []prometheus.Collector {
	return []prometheus.Collector{m.Inbox.Collector(), m.Inbox.Counters(), m.Limiter.Metrics}
}

// workerCounters are a worker process's own counters, served on
// HANDOVER_METRICS_ADDR when it runs without the API.
func (m *Main) workerCounters() []prometheus.Collector {
	return []prometheus.Collector{m.Campaigns.SendCounters(), m.Inbox.Counters(), m.Limiter.Metrics}
}
