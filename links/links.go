package links

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/transfers"
)

// DefaultTTL is how long a link lives unless configured (HANDOVER_LINK_TTL)
// or asked otherwise.
const DefaultTTL = 30 * 24 * time.Hour

// Why a token does not open. The three are told apart here and in the
// status code (404 or 410), never in what the page says.
var (
	ErrUnknown = &handover.Error{Code: handover.ENOTFOUND, Message: "This link is not valid."}
	ErrExpired = &handover.Error{Code: handover.ENOTFOUND, Message: "This link has expired."}
	ErrRevoked = &handover.Error{Code: handover.ENOTFOUND, Message: "This link was withdrawn."}
)

// Link is one personal link. Its token is known only to the message that
// carried it (or the staff member who issued it).
type Link struct {
	ID         string
	TokenHash  string
	CustomerID string
	DeliveryID string // "" for a link issued by hand
	CampaignID string // "" for a link issued by hand
	TransferID string
	Purposes   []string
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	OpenCount  int64
	// FirstOpenedAt and LastOpenedAt are nil until the link is opened.
	FirstOpenedAt *time.Time
	LastOpenedAt  *time.Time
	CreatedBy     string
	CreatedAt     time.Time
}

// Store issues, resolves and revokes links, and keeps survey answers.
type Store struct {
	db        *database.DB
	vault     *pii.Vault
	customers *customers.Store
	transfers *transfers.Store
	ttl       time.Duration
	// openStmt is Open's statement, prepared once: parsing it again for
	// every page view was a sixth of the portal's CPU time on SQLite.
	openMu   sync.Mutex
	openStmt atomic.Pointer[sql.Stmt]
}

// NewStore returns a Store; ts finds a link's transfer and ttl is the
// default lifetime of a link issued by hand (0 means DefaultTTL).
func NewStore(db *database.DB, vault *pii.Vault, cs *customers.Store, ts *transfers.Store, ttl time.Duration) *Store {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Store{db: db, vault: vault, customers: cs, transfers: ts, ttl: ttl}
}

// IssueRequest asks for a link by hand (dashboard or API).
type IssueRequest struct {
	CustomerID string
	TransferID string
	// Purposes default to all the transfer's purposes.
	Purposes []string
	// TTL defaults to the store's.
	TTL   time.Duration
	Actor string
}

// Issue makes a link for an active customer and audits it. It returns the
// token, which is not stored and cannot be shown again.
func (s *Store) Issue(ctx context.Context, r IssueRequest) (string, *Link, error) {
	if r.TTL == 0 {
		r.TTL = s.ttl
	}
	if r.TTL < time.Hour || r.TTL > 366*24*time.Hour {
		return "", nil, handover.Errorf(handover.EINVALID, "A link must live between one hour and 366 days.")
	}
	t, err := s.transfers.FindTransferByID(ctx, r.TransferID)
	if err != nil {
		return "", nil, err
	}
	purposes := t.Purposes
	if len(r.Purposes) > 0 {
		purposes = nil
		for _, p := range r.Purposes {
			if !slices.Contains(t.Purposes, p) {
				return "", nil, handover.Errorf(handover.EINVALID, "Purpose %q is not one of the transfer's purposes.", handover.Clip(p, 40))
			}
			if !slices.Contains(purposes, p) {
				purposes = append(purposes, p)
			}
		}
	}
	token, hash, err := NewToken()
	if err != nil {
		return "", nil, err
	}
	l := &Link{ID: ulid.Make().String(), TokenHash: hash, CustomerID: r.CustomerID, TransferID: t.ID, Purposes: purposes, CreatedBy: r.Actor}
	err = s.db.InTx(ctx, func(tx *database.Tx) error {
		var status customers.Status
		err := tx.QueryRowContext(ctx, `SELECT status FROM customers WHERE id = $1`, r.CustomerID).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		} else if err != nil {
			return fmt.Errorf("issue link: %w", err)
		}
		if status == customers.StatusErased {
			return handover.Errorf(handover.ECONFLICT, "The customer was erased; no link can be issued.")
		}
		l.ExpiresAt = tx.Now.Add(r.TTL)
		if err := InsertTx(ctx, tx, []Link{*l}); err != nil {
			return err
		}
		l.CreatedAt = tx.Now
		return audit.Record(ctx, tx, audit.Entry{Actor: r.Actor, Action: "link.issue", ObjectType: "customer", ObjectID: r.CustomerID,
			Detail: fmt.Sprintf("link=%s transfer=%s expires=%s", l.ID, t.ID, l.ExpiresAt.Format(time.RFC3339))})
	})
	if err != nil {
		return "", nil, err
	}
	return token, l, nil
}

var linkColumns = []string{"id", "token_hash", "customer_id", "delivery_id", "campaign_id", "transfer_id", "purposes", "expires_at", "created_by", "created_at"}

// InsertTx inserts new links inside the caller's transaction (a campaign
// recording its sent batch), created at tx.Now, in as few statements as the
// engine allows.
func InsertTx(ctx context.Context, tx *database.Tx, links []Link) error {
	if len(links) == 0 {
		return nil
	}
	return database.InsertRows(ctx, tx, "links", linkColumns, "", len(links), func(i int, dst []any) []any {
		l := &links[i]
		return append(dst, l.ID, l.TokenHash, l.CustomerID, l.DeliveryID, l.CampaignID, l.TransferID,
			strings.Join(l.Purposes, ","), l.ExpiresAt, l.CreatedBy, tx.Now)
	})
}

const selectColumns = `id, token_hash, customer_id, delivery_id, campaign_id, transfer_id, purposes, expires_at, revoked_at,
	open_count, first_opened_at, last_opened_at, created_by, created_at`

func scanLink(row interface{ Scan(...any) error }) (*Link, error) {
	var l Link
	var purposes string
	var revoked, first, last sql.NullTime
	if err := row.Scan(&l.ID, &l.TokenHash, &l.CustomerID, &l.DeliveryID, &l.CampaignID, &l.TransferID, &purposes, &l.ExpiresAt,
		&revoked, &l.OpenCount, &first, &last, &l.CreatedBy, &l.CreatedAt); err != nil {
		return nil, err
	}
	l.Purposes = strings.Split(purposes, ",")
	l.ExpiresAt, l.CreatedAt = l.ExpiresAt.UTC(), l.CreatedAt.UTC()
	l.RevokedAt, l.FirstOpenedAt, l.LastOpenedAt = nullTime(revoked), nullTime(first), nullTime(last)
	return &l, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Resolve returns the live link of a token, or ErrUnknown, ErrExpired or
// ErrRevoked; with the last two the link comes back too, for the one
// thing a dead link still does (an email's one-click unsubscribe). It
// does not count an open.
func (s *Store) Resolve(ctx context.Context, token string) (*Link, error) {
	if _, err := ParseToken(token); err != nil {
		return nil, ErrUnknown
	}
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+selectColumns+` FROM links WHERE token_hash = $1`, HashToken(token)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnknown
	} else if err != nil {
		return nil, fmt.Errorf("resolve link: %w", err)
	}
	switch {
	case l.RevokedAt != nil:
		return l, ErrRevoked
	case !s.db.Now().Before(l.ExpiresAt):
		return l, ErrExpired
	}
	return l, nil
}

// Open is Resolve for a customer opening the link: it counts the open in
// the same statement that finds a live link (one conditional UPDATE), and
// only a miss costs a second query to say why.
func (s *Store) Open(ctx context.Context, token string) (*Link, error) {
	if _, err := ParseToken(token); err != nil {
		return nil, ErrUnknown
	}
	stmt, err := s.openStatement(ctx)
	if err != nil {
		return nil, fmt.Errorf("open link: %w", err)
	}
	var l *Link
	err = s.db.Write(ctx, func() (err error) {
		l, err = scanLink(stmt.QueryRowContext(ctx, s.db.Now(), HashToken(token)))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return s.Resolve(ctx, token)
	} else if err != nil {
		return nil, fmt.Errorf("open link: %w", err)
	}
	return l, nil
}

// openStatement prepares Open's statement the first time it succeeds.
func (s *Store) openStatement(ctx context.Context) (*sql.Stmt, error) {
	if stmt := s.openStmt.Load(); stmt != nil {
		return stmt, nil
	}
	s.openMu.Lock()
	defer s.openMu.Unlock()
	if stmt := s.openStmt.Load(); stmt != nil {
		return stmt, nil
	}
	stmt, err := s.db.PrepareContext(context.WithoutCancel(ctx), `UPDATE links SET open_count = open_count + 1,
		first_opened_at = COALESCE(first_opened_at, $1), last_opened_at = $1
		WHERE token_hash = $2 AND revoked_at IS NULL AND expires_at > $1 RETURNING `+selectColumns)
	if err != nil {
		return nil, err
	}
	s.openStmt.Store(stmt)
	return stmt, nil
}

// FindLinkByID returns a link or an ENOTFOUND error.
func (s *Store) FindLinkByID(ctx context.Context, id string) (*Link, error) {
	l, err := scanLink(s.db.QueryRowContext(ctx, `SELECT `+selectColumns+` FROM links WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, handover.Errorf(handover.ENOTFOUND, "Link not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find link: %w", err)
	}
	return l, nil
}

// Revoke withdraws a link at once and audits it; revoking a revoked link
// changes nothing.
func (s *Store) Revoke(ctx context.Context, id, actor string) (*Link, error) {
	var l *Link
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE links SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, tx.Now, id)
		if err != nil {
			return fmt.Errorf("revoke link: %w", err)
		}
		l, err = scanLink(tx.QueryRowContext(ctx, `SELECT `+selectColumns+` FROM links WHERE id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return handover.Errorf(handover.ENOTFOUND, "Link not found.")
		} else if err != nil {
			return fmt.Errorf("revoke link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "link.revoke", ObjectType: "customer", ObjectID: l.CustomerID,
			Detail: "link=" + l.ID})
	})
	return l, err
}
