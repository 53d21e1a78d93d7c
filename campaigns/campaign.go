// Package campaigns sends a message to an audience: a campaign names a
// transfer, an ordered list of channels with a template each, and an
// audience filter. Starting it plans one delivery row per recipient in
// batched inserts and enqueues batch tasks on a per-channel queue; workers
// claim a batch's rows with a conditional update and a lease, render, send
// through the channel and record the outcome on each row.
package campaigns

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/templates"
	"github.com/handoverhq/handover/transfers"
)

// Status says where a campaign stands.
type Status string

// Campaign statuses. The values are the ones stored and the API shows.
const (
	StatusDraft     Status = "draft"
	StatusScheduled Status = "scheduled"
	StatusRunning   Status = "running"
	StatusPaused    Status = "paused"
	StatusCompleted Status = "completed"
	StatusCancelled Status = "cancelled"
)

// String returns the status as stored.
func (s Status) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s Status) Key() string { return "status." + string(s) }

// Campaign is one message to an audience over an ordered list of channels.
type Campaign struct {
	ID         string
	Name       string
	TransferID string
	Kind       templates.Kind
	Status     Status
	// Channels in fallback order: a recipient gets the first they can
	// receive.
	Channels []channels.Name
	// Templates names the template used on each channel.
	Templates map[channels.Name]string
	Audience  Audience
	// Purpose is the transfer purpose whose consent the campaign needs:
	// for a consent-dependent kind (all but transfer and incident notices)
	// customers who declined or withdrew it are skipped, and a later
	// withdrawal suppresses their unsent rows. "" needs none.
	Purpose string
	// TimeZone is where quiet hours are reckoned for customers whose own
	// zone is not known (default Asia/Shanghai); the others are held in
	// their own.
	TimeZone string
	// Quiet holds sends due inside it until it ends; nil sends any time.
	Quiet *QuietHours
	// Rates caps this campaign's messages per second per channel, on top
	// of the channel's shared rate; absent or 0 is no campaign cap.
	Rates   map[channels.Name]int
	SendAt  *time.Time
	Planned int
	// PlannedAt is when every recipient had a delivery row; nil while
	// planning goes on.
	PlannedAt  *time.Time
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
}

// Config is what a Service needs.
type Config struct {
	DB        *database.DB
	Queue     *queue.Queue
	Customers *customers.Store
	Templates *templates.Store
	// Transfers finds a campaign's transfer.
	Transfers *transfers.Store
	// Channels are the channels campaigns may send through. Campaign
	// sends skip a channel's sent log (channels.Logged): the deliveries
	// rows say what went out to whom, and Sent reads them.
	Channels map[channels.Name]channels.Channel
	// Sent, when set, is the sent log replies are tied to their message
	// through: New makes it consult LatestSent, so a reply to a campaign
	// message finds its delivery.
	Sent *channels.SentLog
	// SMSSignName is the sign name SMS go out under when their template
	// version names none (HANDOVER_SMS_SIGN_NAME), for LatestSent.
	SMSSignName string
	// PublicURL prefixes personal links (PUBLIC_URL).
	PublicURL string
	// LinkTTL is how long a sent personal link lives (default 30 days,
	// HANDOVER_LINK_TTL).
	LinkTTL time.Duration
	Log     *slog.Logger
	// BatchSize is the number of deliveries per batch task (default 500:
	// per-batch work, the commits above all, fell from a third of the
	// sender's CPU per message at 200 to a sixth; a worker that dies loses
	// at most its batches in flight).
	BatchSize int
	// PlanChunk is how many customers one planning transaction reads
	// (default 10,000).
	PlanChunk int
	// Limiter keeps campaigns' own rates (Campaign.Rates); default one on
	// the queue's Redis.
	Limiter *channels.Limiter
	// SMSReceipts, when set, polls SMS delivery receipts every ReceiptPoll
	// (HANDOVER_SMS_RECEIPT_POLL) for deployments without push.
	SMSReceipts ReceiptQuerier
	ReceiptPoll time.Duration
	// CountReceipt, when set, counts each polled receipt applied, as the
	// Inbox counts pushed ones (Inbox.CountReceipt), so the receipts
	// metric has every receipt whichever way it came.
	CountReceipt func(channels.InboundEvent)
	// SentCheckers, per channel without an idempotency key (SMS), tell
	// whether a row whose send failed transiently went out after all, so
	// it is not sent twice.
	SentCheckers map[channels.Name]SentChecker
	// Lease is how long a worker owns a batch it claimed (its
	// campaign_batches row; default 30 s) unless it renews it: a live
	// worker's heartbeat renews it every third of it, so a dead worker's
	// batch is taken over (Recover) soon after this much time.
	Lease time.Duration
}

// DefaultLease is Config.Lease's default.
const DefaultLease = 30 * time.Second

// Service plans and sends campaigns.
type Service struct {
	cfg     Config
	db      *database.DB
	log     *slog.Logger
	limiter *channels.Limiter
	metrics sendMetrics
	// transfers finds a campaign's transfer.
	transfers *transfers.Store
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 500
	}
	if cfg.Lease <= 0 {
		cfg.Lease = DefaultLease
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.LinkTTL <= 0 {
		cfg.LinkTTL = links.DefaultTTL
	}
	if cfg.PlanChunk <= 0 {
		cfg.PlanChunk = 10000
	}
	if cfg.Limiter == nil && cfg.Queue != nil {
		cfg.Limiter = channels.NewLimiter(cfg.Queue.Redis, "handover:rate:")
	}
	s := &Service{cfg: cfg, db: cfg.DB, log: cfg.Log, limiter: cfg.Limiter, metrics: newSendMetrics(), transfers: cfg.Transfers}
	if cfg.Sent != nil {
		cfg.Sent.Consult(s.LatestSent)
	}
	return s
}

// Create validates c and stores it as a draft, setting its ID, Status,
// CreatedBy and timestamps, and audits it.
func (s *Service) Create(ctx context.Context, c *Campaign, actor string) error {
	if err := s.validate(ctx, c, true); err != nil {
		return err
	}
	tmpl, rules, rates, qs, qe := c.stored()
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		c.ID, c.Status, c.CreatedBy, c.CreatedAt, c.UpdatedAt = ulid.Make().String(), StatusDraft, actor, tx.Now, tx.Now
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, name, transfer_id, kind, status, channels, template_ids,
			audience_tag, audience_region, send_at, created_by, created_at, updated_at,
			audience_rules, purpose, time_zone, quiet_start, quiet_end, rates)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
			c.ID, c.Name, c.TransferID, string(c.Kind), c.Status, joinChannels(c.Channels), tmpl,
			strings.Join(c.Audience.Tags, ","), c.Audience.Region, c.SendAt, actor, tx.Now, tx.Now,
			rules, c.Purpose, c.TimeZone, int64(qs), int64(qe), rates)
		if err != nil {
			return fmt.Errorf("create campaign: %w", err)
		}
		if err := insertAudienceList(ctx, tx, c); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign.create", ObjectType: "campaign", ObjectID: c.ID,
			Detail: "channels=" + joinChannels(c.Channels)})
	})
}

// stored is c's columns that are stored as text: its templates, audience
// rules and rates as JSON, and its quiet hours.
func (c *Campaign) stored() (tmpl, rules, rates string, qs, qe int) {
	t, _ := json.Marshal(c.Templates)
	r, _ := json.Marshal(audienceRules{ImportID: c.Audience.ImportID, Consent: c.Audience.Consent, Reachable: c.Audience.Reachable,
		List: len(c.Audience.CustomerIDs) > 0})
	rt, _ := json.Marshal(c.Rates)
	if c.Quiet != nil {
		qs, qe = c.Quiet.Start, c.Quiet.End
	}
	return string(t), string(r), string(rt), qs, qe
}

// insertAudienceList stores c's explicit audience list.
func insertAudienceList(ctx context.Context, tx *database.Tx, c *Campaign) error {
	ids := c.Audience.CustomerIDs
	if len(ids) == 0 {
		return nil
	}
	err := database.InsertRows(ctx, tx, "campaign_customers", []string{"campaign_id", "customer_id"}, "", len(ids),
		func(i int, dst []any) []any { return append(dst, c.ID, ids[i]) })
	if err != nil {
		return fmt.Errorf("campaign audience list: %w", err)
	}
	return nil
}

// audienceRules is the JSON of campaigns.audience_rules: the audience
// filters without their own column (the explicit list is in
// campaign_customers).
type audienceRules struct {
	ImportID  string          `json:"import_id,omitempty"`
	Consent   []ConsentFilter `json:"consent,omitempty"`
	Reachable []channels.Name `json:"reachable,omitempty"`
	List      bool            `json:"list,omitempty"`
}

// validate normalises and checks c before it is stored (full) or its
// audience previewed.
func (s *Service) validate(ctx context.Context, c *Campaign, full bool) error {
	c.Name = strings.TrimSpace(c.Name)
	if full && (c.Name == "" || len([]rune(c.Name)) > 200) {
		return handover.Errorf(handover.EINVALID, "name is required (at most 200 characters)")
	}
	tr, err := s.transfers.FindTransferByID(ctx, c.TransferID)
	if handover.ErrorCode(err) == handover.ENOTFOUND {
		return handover.Errorf(handover.EINVALID, "transfer_id names no transfer")
	} else if err != nil {
		return err
	}
	if c.Kind == "" {
		c.Kind = templates.TransferNotice
	}
	if c.Purpose != "" && !slices.Contains(tr.Purposes, c.Purpose) {
		return handover.Errorf(handover.EINVALID, "purpose %q is not one of the transfer's purposes", c.Purpose)
	}
	if err := validateAudience(&c.Audience, tr); err != nil {
		return err
	}
	if len(c.Channels) == 0 {
		return handover.Errorf(handover.EINVALID, "channels must name at least one channel")
	}
	seen := map[channels.Name]bool{}
	for _, ch := range c.Channels {
		if seen[ch] {
			return handover.Errorf(handover.EINVALID, "channel %s is listed twice", ch)
		}
		seen[ch] = true
		if _, ok := s.cfg.Channels[ch]; !ok {
			return handover.Errorf(handover.EINVALID, "channel %s is not configured", ch)
		}
	}
	if !full {
		return nil
	}
	if err := s.validateRules(c, seen); err != nil {
		return err
	}
	for _, ch := range c.Channels {
		id := c.Templates[ch]
		if id == "" {
			return handover.Errorf(handover.EINVALID, "templates must name a template for channel %s", ch)
		}
		t, err := s.cfg.Templates.FindTemplateByID(ctx, id)
		if handover.ErrorCode(err) == handover.ENOTFOUND {
			return handover.Errorf(handover.EINVALID, "template for channel %s not found", ch)
		} else if err != nil {
			return err
		}
		if t.Channel != ch || t.Kind != c.Kind || t.Archived {
			return handover.Errorf(handover.EINVALID, "template for channel %s must be a current %s template of kind %s", ch, ch, c.Kind)
		}
	}
	for ch := range c.Templates {
		if !seen[ch] {
			return handover.Errorf(handover.EINVALID, "templates names channel %s, which is not in channels", ch)
		}
	}
	if err := s.checkSendable(ctx, c); err != nil {
		return err
	}
	if c.SendAt != nil {
		t := c.SendAt.UTC().Truncate(time.Microsecond)
		c.SendAt = &t
	}
	if len(c.Audience.CustomerIDs) > 0 {
		found := 0
		for start := 0; start < len(c.Audience.CustomerIDs); start += 500 {
			part := c.Audience.CustomerIDs[start:min(start+500, len(c.Audience.CustomerIDs))]
			in, args := database.In(nil, part)
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM customers WHERE id IN `+in, args...).Scan(&n); err != nil {
				return fmt.Errorf("campaign audience: %w", err)
			}
			found += n
		}
		if found != len(c.Audience.CustomerIDs) {
			return handover.Errorf(handover.EINVALID, "audience customer_ids names %d unknown customers", len(c.Audience.CustomerIDs)-found)
		}
	}
	return nil
}

func joinChannels(list []channels.Name) string {
	s := make([]string, len(list))
	for i, c := range list {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

const campaignColumns = `id, name, transfer_id, kind, status, channels, template_ids, audience_tag, audience_region,
	send_at, planned_count, created_by, created_at, updated_at, started_at, finished_at,
	audience_rules, purpose, time_zone, quiet_start, quiet_end, rates, planned_at`

func scanCampaign(row database.Scanner) (*Campaign, error) {
	var c Campaign
	var kind, chans, tmpl, tags, rules, rates string
	var qs, qe int
	var sendAt, started, finished, planned sql.NullTime
	if err := row.Scan(&c.ID, &c.Name, &c.TransferID, &kind, &c.Status, &chans, &tmpl, &tags, &c.Audience.Region,
		&sendAt, &c.Planned, &c.CreatedBy, &c.CreatedAt, &c.UpdatedAt, &started, &finished,
		&rules, &c.Purpose, &c.TimeZone, &qs, &qe, &rates, &planned); err != nil {
		return nil, err
	}
	if tags != "" {
		c.Audience.Tags = strings.Split(tags, ",")
	}
	var r audienceRules
	if err := json.Unmarshal([]byte(rules), &r); err != nil {
		return nil, fmt.Errorf("campaign %s audience: %w", c.ID, err)
	}
	c.Audience.ImportID, c.Audience.Consent, c.Audience.Reachable = r.ImportID, r.Consent, r.Reachable
	if r.List {
		c.Audience.CustomerIDs = []string{} // non-nil: the list is in campaign_customers
	}
	if err := json.Unmarshal([]byte(rates), &c.Rates); err != nil {
		return nil, fmt.Errorf("campaign %s rates: %w", c.ID, err)
	}
	if qs != qe {
		c.Quiet = &QuietHours{Start: qs, End: qe}
	}
	c.PlannedAt = timePtr(planned)
	c.Kind = templates.Kind(kind)
	for _, ch := range strings.Split(chans, ",") {
		c.Channels = append(c.Channels, channels.Name(ch))
	}
	if err := json.Unmarshal([]byte(tmpl), &c.Templates); err != nil {
		return nil, fmt.Errorf("campaign %s templates: %w", c.ID, err)
	}
	c.SendAt, c.StartedAt, c.FinishedAt = timePtr(sendAt), timePtr(started), timePtr(finished)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// FindCampaignByID returns a campaign or an ENOTFOUND error.
func (s *Service) FindCampaignByID(ctx context.Context, id string) (*Campaign, error) {
	c, err := scanCampaign(s.db.QueryRowContext(ctx, `SELECT `+campaignColumns+` FROM campaigns WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Campaign not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find campaign: %w", err)
	}
	return c, nil
}

// FindCampaigns lists the newest 500 campaigns, optionally by status.
func (s *Service) FindCampaigns(ctx context.Context, status string) ([]*Campaign, error) {
	list, _, err := s.FindCampaignPage(ctx, status, "", 500)
	return list, err
}

// FindCampaignPage lists up to limit campaigns, newest first, older than
// cursor (the next cursor of the previous page; "" for the first),
// optionally by status. next is "" on the last page.
func (s *Service) FindCampaignPage(ctx context.Context, status, cursor string, limit int) (list []*Campaign, next string, err error) {
	list, err = database.QueryAll(ctx, s.db, scanCampaign, `SELECT `+campaignColumns+` FROM campaigns WHERE ($1 = '' OR status = $1)
		AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT `+fmt.Sprint(limit+1), status, cursor)
	if err != nil {
		return nil, "", fmt.Errorf("find campaigns: %w", err)
	}
	list, next = database.Page(list, limit, func(c *Campaign) string { return c.ID })
	return list, next, nil
}

// Progress is the campaign's deliveries by status, as Stats.ByStatus has
// them but with sent, delivered and bounced together as "sent", read from counters
// instead of the campaign's rows, so the dashboard can poll it however
// large the campaign: planning counts the skipped rows, each batch's
// record what it sent and failed (campaign_batches), an index range counts
// the suppressed ones, and the rest of the planned rows are queued.
func (s *Service) Progress(ctx context.Context, id string) (map[channels.DeliveryStatus]int, error) {
	var planned, skipped, sent, failed, suppressed int64
	err := s.db.QueryRowContext(ctx, `SELECT c.planned_count, c.skipped_count,
		CAST(COALESCE((SELECT SUM(b.sent) FROM campaign_batches b WHERE b.campaign_id = c.id), 0) AS BIGINT),
		CAST(COALESCE((SELECT SUM(b.failed) FROM campaign_batches b WHERE b.campaign_id = c.id), 0) AS BIGINT),
		(SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'suppressed')
		FROM campaigns c WHERE c.id = $1`, id).Scan(&planned, &skipped, &sent, &failed, &suppressed)
	if err != nil {
		return nil, database.MapError(err)
	}
	out := map[channels.DeliveryStatus]int{}
	for k, n := range map[channels.DeliveryStatus]int64{channels.StatusSkipped: skipped, channels.StatusSent: sent, channels.StatusFailed: failed, channels.StatusSuppressed: suppressed,
		channels.StatusQueued: max(0, planned-skipped-sent-failed-suppressed)} {
		if n > 0 {
			out[k] = int(n)
		}
	}
	return out, nil
}

// transition moves a campaign from one of from to to, or fails with
// ECONFLICT (ENOTFOUND when there is no such campaign), and audits it.
func (s *Service) transition(ctx context.Context, tx *database.Tx, id string, to Status, actor string, from ...Status) error {
	marks := make([]string, len(from))
	args := []any{to, tx.Now, id}
	for i, f := range from {
		marks[i] = fmt.Sprintf("$%d", len(args)+1)
		args = append(args, f)
	}
	extra := ""
	switch to {
	case StatusRunning:
		extra = ", started_at = COALESCE(started_at, $2)"
	case StatusCompleted, StatusCancelled:
		extra = ", finished_at = $2"
	}
	res, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = $1, updated_at = $2`+extra+` WHERE id = $3 AND status IN (`+
		strings.Join(marks, ", ")+`)`, args...)
	if err != nil {
		return fmt.Errorf("campaign %s: %w", to, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var st string
		err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = $1`, id).Scan(&st)
		if errors.Is(err, sql.ErrNoRows) {
			return handover.Errorf(handover.ENOTFOUND, "Campaign not found.")
		} else if err != nil {
			return err
		}
		return handover.Errorf(handover.ECONFLICT, "The campaign is %s; it cannot become %s.", st, to)
	}
	if actor == "" {
		return nil
	}
	action := map[Status]string{StatusRunning: "start", StatusPaused: "pause", StatusCancelled: "cancel"}[to]
	if to == StatusRunning && len(from) == 1 && from[0] == StatusPaused {
		action = "resume"
	}
	return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "campaign." + action, ObjectType: "campaign", ObjectID: id})
}

// Pause stops further sends: batch tasks that find the campaign paused
// finish without sending, and Resume enqueues them again.
func (s *Service) Pause(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		return s.transition(ctx, tx, id, StatusPaused, actor, StatusRunning)
	})
}

// Resume restarts a paused campaign and enqueues every batch that still
// has queued rows.
func (s *Service) Resume(ctx context.Context, id, actor string) error {
	if err := s.db.InTx(ctx, func(tx *database.Tx) error {
		return s.transition(ctx, tx, id, StatusRunning, actor, StatusPaused)
	}); err != nil {
		return err
	}
	return s.enqueuePending(ctx, id)
}

// Cancel ends a campaign: every unsent row is suppressed (reason
// "cancelled"). Rows a worker is sending at that moment still finish.
func (s *Service) Cancel(ctx context.Context, id, actor string) error {
	return s.db.InTx(ctx, func(tx *database.Tx) error {
		if err := s.transition(ctx, tx, id, StatusCancelled, actor, StatusDraft, StatusScheduled, StatusRunning, StatusPaused); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'suppressed', skip_reason = 'cancelled',
			updated_at = $1 WHERE campaign_id = $2 AND status IN ('planned', 'queued')`, tx.Now, id)
		return err
	})
}

// Stats are a campaign's deliveries counted three ways, from one GROUP BY
// over the campaign's rows, and its links counted as a funnel.
type Stats struct {
	// ByStatus counts deliveries per status.
	ByStatus map[channels.DeliveryStatus]int
	// SkippedByReason counts skipped and suppressed deliveries per reason.
	SkippedByReason map[SkipReason]int
	// ByChannel counts deliveries per channel and status (rows skipped at
	// planning have no channel and are not in it).
	ByChannel map[string]map[channels.DeliveryStatus]int
	// Funnel counts the campaign's links by what the customers did on
	// the portal, in all and per channel (stats.go).
	Funnel          Funnel
	FunnelByChannel map[string]Funnel
}

// Stats counts a campaign's deliveries by status, skip reason and channel.
func (s *Service) Stats(ctx context.Context, id string) (*Stats, error) {
	st := &Stats{ByStatus: map[channels.DeliveryStatus]int{}, SkippedByReason: map[SkipReason]int{}, ByChannel: map[string]map[channels.DeliveryStatus]int{}}
	err := database.EachRow(ctx, s.db, func(row database.Scanner) error {
		var ch string
		var status channels.DeliveryStatus
		var reason SkipReason
		var n int
		if err := row.Scan(&ch, &status, &reason, &n); err != nil {
			return err
		}
		st.ByStatus[status] += n
		if status == channels.StatusSkipped || status == channels.StatusSuppressed {
			st.SkippedByReason[reason] += n
		}
		if ch != "" {
			if st.ByChannel[ch] == nil {
				st.ByChannel[ch] = map[channels.DeliveryStatus]int{}
			}
			st.ByChannel[ch][status] += n
		}
		return nil
	}, `SELECT channel, status, skip_reason, COUNT(*) FROM deliveries WHERE campaign_id = $1
		GROUP BY channel, status, skip_reason`, id)
	if err != nil {
		return nil, fmt.Errorf("campaign stats: %w", err)
	}
	if err := s.funnel(ctx, id, st); err != nil {
		return nil, err
	}
	return st, nil
}
