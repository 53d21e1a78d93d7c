// Package app builds Handover once, in dependency order: configuration →
// log → database → keys → stores → queue → channels and inbox → services →
// the web server's deps and the worker's task handlers. cmd/handover runs
// what it builds; tests start the application through it the same way,
// handing in their own database schema, Redis and log.
package app

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"

	"github.com/handoverhq/handover/archive"
	"github.com/handoverhq/handover/assessments"
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
	"github.com/handoverhq/handover/incidents"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/rights"
	"github.com/handoverhq/handover/staff"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// App is the application: what its caller hands in (Config and Log, and
// optionally DB, Queue and DevboxAlways), then what OpenStores and
// OpenServices build. Nothing is global.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	// DB, when set before OpenStores, is used as it is (open and
	// migrated: a test's schema) and left open by Close; otherwise
	// OpenStores opens and migrates the configured database.
	DB *database.DB
	// Queue, when set before OpenServices, is used as it is (a test's
	// Redis) and left open by Close.
	Queue *queue.Queue
	// DevboxAlways records messages in the devbox even when a provider is
	// on (tests that add their own channels keep it for the rest).
	DevboxAlways bool

	Vault       *pii.Vault
	Staff       *staff.Store
	Customers   *customers.Store
	Importer    *importer.Importer
	Transfers   *transfers.Store
	Rights      *rights.Store
	Templates   *templates.Store
	Links       *links.Store
	Incidents   *incidents.Store
	Assessments *assessments.Store
	Archive     *archive.Store
	// Destroyer runs retention plans; Exporter writes the buyer's package.
	Destroyer *lifecycle.Destroyer
	Exporter  *lifecycle.Exporter

	Inbox *channels.Inbox
	// Sent ties replies to the messages they answer: the log of
	// non-campaign sends, consulting campaigns' deliveries.
	Sent     *channels.SentLog
	Channels map[channels.Name]channels.Channel
	// Limiter keeps the send rates shared by every worker (channels' and
	// campaigns'), counting its waits.
	Limiter *channels.Limiter
	WeChat  *wechat.Channel
	// SMS is the Aliyun channel unwrapped, for receipt polling.
	SMS    *sms.Channel
	Devbox *devbox.Channel
	// SendCode sends the portal's confirmation codes through the channels.
	SendCode  rights.SendFunc
	Campaigns *campaigns.Service
	// Governance gates personal data and keeps access reviews.
	Governance *governance.Service
	// Tickets turns replies into feedback tickets staff work.
	Tickets *feedback.Service

	closeDB, closeQueue bool
}

// NewLogger is the log the configuration asks for (level and format),
// written to w.
func NewLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	level := map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError}[cfg.LogLevel]
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStores opens and migrates the database (unless DB is set), loads the
// keys and builds the domain stores.
func (a *App) OpenStores(ctx context.Context) error {
	if a.DB == nil {
		db, err := database.Open(ctx, a.Config.DatabaseURL, a.Config.DataDir)
		if err != nil {
			return err
		}
		a.DB, a.closeDB = db, true
		if err := db.Migrate(ctx); err != nil {
			return err
		}
	}
	db := a.DB
	if err := a.unsealMasterKey(); err != nil {
		return err
	}
	current, previous, generated, err := a.Config.MasterKeys()
	if err != nil {
		return err
	}
	if generated {
		a.Log.Warn("GENERATED A NEW MASTER KEY: back up this file; without it the personal data in this database cannot be read",
			"path", filepath.Join(a.Config.DataDir, "master.key"))
	}
	keys, err := pii.NewKeyring(current, previous...)
	if err != nil {
		return err
	}
	if a.Vault, err = pii.OpenVault(ctx, db, keys); err != nil {
		return err
	}
	if err := audit.UseKey(ctx, db, a.Vault.Index.DeriveKey(audit.KeyPurpose)); err != nil {
		return err
	}
	a.Staff = staff.NewStore(db)
	a.Customers = customers.NewStore(db, a.Vault)
	a.Transfers = transfers.NewStore(db)
	a.Rights = rights.NewStore(a.Customers)
	a.Importer = importer.New(a.Customers, filepath.Join(a.Config.DataDir, "imports"), a.Log)
	a.Importer.MaxRows, a.Importer.RejectStop = a.Config.ImportMaxRows, a.Config.ImportRejectStop
	a.Importer.MaxUnzippedBytes = a.Config.ImportMaxUnzippedMB << 20
	a.Templates = templates.NewStore(db, a.Customers, a.Transfers)
	a.Templates.SetPortalURL(a.Config.PublicURL)
	a.Links = links.NewStore(db, a.Vault, a.Customers, a.Transfers, a.Config.LinkTTL)
	a.Incidents, a.Assessments, a.Archive = incidents.NewStore(db), assessments.NewStore(db), archive.NewStore(db)
	// The data dir is where the embedded key store's files are, for the
	// destruction report's scan of them.
	dataDir := ""
	if a.Config.Embedded() {
		dataDir = a.Config.DataDir
	}
	a.Destroyer = lifecycle.NewDestroyer(db, a.Transfers, dataDir)
	a.Exporter = lifecycle.NewExporter(db, a.Customers, a.Transfers)
	return nil
}

// Close releases what was opened here, in reverse order; a DB or Queue
// handed in stays open.
func (a *App) Close() {
	if a.Importer != nil {
		a.Importer.Wait()
	}
	if a.Queue != nil && a.closeQueue {
		if err := a.Queue.Close(); err != nil {
			a.Log.Warn("close queue", "err", err)
		}
	}
	if a.DB != nil && a.closeDB {
		a.DB.Close()
	}
}
