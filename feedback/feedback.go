// Package feedback turns what customers write back (WeChat messages, SMS
// and email replies, survey free text) into tickets that service staff work
// in a queue: classification rules run first (opt-out, consent words,
// corrections, complaints), a message joins its customer's open ticket on
// the same topic or opens one, SLA deadlines count business hours, and a
// staff reply goes back through the channel the customer can be reached on.
// Message text is sealed at rest and every read of it is audited.
package feedback

import (
	"context"
	"log/slog"
	"time"

	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/queue"
	"github.com/handoverhq/handover/transfers"
)

// Status says where a ticket stands in the queue.
type Status string

// Ticket statuses. The values are the ones stored and the API shows.
const (
	StatusNew      Status = "new"
	StatusOpen     Status = "open"
	StatusPending  Status = "pending" // waiting for the customer
	StatusResolved Status = "resolved"
	StatusClosed   Status = "closed"
	StatusMerged   Status = "merged"
)

// Statuses lists the ticket statuses, the queue's order.
var Statuses = []Status{StatusNew, StatusOpen, StatusPending, StatusResolved, StatusClosed, StatusMerged}

// String returns the status as stored.
func (s Status) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s Status) Key() string { return "ticket.status." + string(s) }

// Priorities, lowest first.
const (
	PriorityLow    = "low"
	PriorityNormal = "normal"
	PriorityHigh   = "high"
	PriorityUrgent = "urgent"
)

// Categories the default rules and routing use; rules may name others.
const (
	CategoryGeneral    = "general"
	CategoryOptOut     = "opt_out"
	CategoryConsent    = "consent"
	CategoryCorrection = "correction"
	CategoryComplaint  = "complaint"
	CategorySurvey     = "survey"
)

// Message directions.
const (
	DirectionIn   = "in"   // from the customer
	DirectionOut  = "out"  // a staff reply sent to the customer
	DirectionNote = "note" // internal, never sent
)

// noDeadline is the sla_due of a ticket that needs nothing: the queue
// sorts it last.
var noDeadline = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Ticket is one conversation with one customer (or unknown sender) on one
// topic.
type Ticket struct {
	ID string
	// CustomerID is "" while Unmatched: the sender was not recognised and
	// staff may link the ticket to a customer.
	CustomerID string
	Unmatched  bool
	Status     Status
	Priority   string
	Category   string
	AssigneeID string
	Team       string
	Tags       []string
	// Channel is the channel the customer last wrote on.
	Channel    channels.Name
	MergedInto string
	// SLA deadlines (business hours from creation) and when staff first
	// answered.
	FirstResponseDue time.Time
	ResolutionDue    time.Time
	FirstResponseAt  *time.Time
	// SLADue is the next deadline; nil when the ticket needs nothing.
	SLADue *time.Time
	// Breached is set once a deadline passed with the ticket still open.
	Breached   bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt *time.Time
	ClosedAt   *time.Time
	// Messages is filled by ViewTicket only, oldest first.
	Messages []Message
}

// IsOpen reports whether the ticket still needs work.
func (t *Ticket) IsOpen() bool {
	return t.Status == StatusNew || t.Status == StatusOpen || t.Status == StatusPending
}

// Message is one message of a ticket, its text opened.
type Message struct {
	ID        string
	TicketID  string
	Direction string
	Channel   channels.Name
	Text      string
	// ProviderMessageID and DeliveryStatus (sending, sent, delivered,
	// failed, bounced) describe an outbound reply; DeliveryError says why
	// it failed and ChannelReason why its channel was chosen.
	ProviderMessageID string
	DeliveryStatus    channels.DeliveryStatus
	DeliveryError     string
	ChannelReason     string
	// AuthorID is the staff member who wrote a reply or note.
	AuthorID  string
	CreatedAt time.Time
}

// Config is what a Service needs.
type Config struct {
	DB        *database.DB
	Vault     *pii.Vault
	Queue     *queue.Queue
	Customers *customers.Store
	// Transfers finds the transfer a consent reply answers.
	Transfers *transfers.Store
	// Channels are the channels replies may go out on.
	Channels map[channels.Name]channels.Channel
	// Calendar counts SLA business hours (default: DefaultCalendar()).
	Calendar *Calendar
	// Targets are the SLA targets per priority (default: DefaultTargets).
	Targets map[string]Targets
	// ReopenWindow is how long after resolution a reply reopens the ticket
	// rather than opening a new one (HANDOVER_TICKET_REOPEN_DAYS, default 7 days).
	ReopenWindow time.Duration
	// SMSReplyTemplate is the approved Aliyun template code staff replies go
	// out under, its one variable named "content"
	// (HANDOVER_TICKET_SMS_TEMPLATE); "" keeps replies off SMS.
	SMSReplyTemplate string
	// SurveyLink, when set, makes a personal satisfaction-survey link
	// (/l/{token}/survey) for a customer; resolving a ticket then sends it
	// (HANDOVER_TICKET_CSAT). nil sends none.
	SurveyLink func(ctx context.Context, customerID string) (string, error)
	Log        *slog.Logger
}

// Service runs tickets.
type Service struct {
	cfg Config
	db  *database.DB
	log *slog.Logger
	// transfers finds the transfer a consent reply answers.
	transfers *transfers.Store
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Calendar == nil {
		cfg.Calendar = DefaultCalendar()
	}
	if cfg.Targets == nil {
		cfg.Targets = DefaultTargets
	}
	if cfg.ReopenWindow <= 0 {
		cfg.ReopenWindow = 7 * 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg, db: cfg.DB, log: cfg.Log, transfers: cfg.Transfers}
}
