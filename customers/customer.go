// Package customers holds the customer list being handed over: customers
// (personal fields sealed with each customer's own data key, found through
// blind indexes), their consent per purpose of a transfer, their opt-outs,
// the addresses bound to them (WeChat openids among them) and the matching
// of inbound contacts. The import lives in customers/importer, the rights
// requests in rights, the transfer in transfers.
package customers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/transfers"
)

// Status is where a customer stands.
type Status string

// Customer statuses. The values are the ones stored and the API shows.
const (
	StatusActive   Status = "active"
	StatusOptedOut Status = "opted_out"
	StatusErased   Status = "erased"
)

// String returns the status as stored.
func (s Status) String() string { return string(s) }

// Key is the status's words in the message catalog (locales).
func (s Status) Key() string { return "status." + string(s) }

// Customer is one person or business on the list, with personal fields in
// plaintext (decrypted). Show it to staff through Masked.
type Customer struct {
	ID           string
	ExternalRef  string
	Name         string
	Phone        string // E.164
	Email        string
	WeChatOpenID string
	Company      string
	Address      string
	Region       string
	Tags         []string
	Locale       string
	// TimeZone is the IANA zone quiet hours are reckoned in for this
	// customer, e.g. Europe/Berlin; "" when not known.
	TimeZone  string
	Status    Status
	ImportID  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Masked returns a copy with the personal fields masked, as staff see a
// customer unless they reveal it.
func (c Customer) Masked() Customer {
	c.Name = pii.MaskName(c.Name)
	c.Phone = pii.MaskPhone(c.Phone)
	c.Email = pii.MaskEmail(c.Email)
	c.WeChatOpenID = pii.MaskText(c.WeChatOpenID)
	c.Company = pii.MaskText(c.Company)
	c.Address = pii.MaskText(c.Address)
	c.Tags = append([]string(nil), c.Tags...)
	return c
}

// Store reads and writes customers, their consent, opt-outs and bindings.
type Store struct {
	db    *database.DB
	vault *pii.Vault
	// transfers finds the transfer whose purposes a consent decision names.
	transfers *transfers.Store
}

// NewStore returns a Store on db whose personal fields vault protects.
func NewStore(db *database.DB, vault *pii.Vault) *Store {
	return &Store{db: db, vault: vault, transfers: transfers.NewStore(db)}
}

// DB is the database the store reads and writes: what the packages that
// write customers' rows themselves (the importer, rights) share.
func (s *Store) DB() *database.DB { return s.db }

// Vault protects the customers' personal fields and computes their blind
// indexes.
func (s *Store) Vault() *pii.Vault { return s.vault }

const customerColumns = `id, external_ref, pii_enc, region, tags, locale, time_zone, status, COALESCE(import_id, ''), created_at, updated_at`

// sealedCustomer is a customers row before decryption.
type sealedCustomer struct {
	Customer
	enc string // pii_enc: the personal fields, sealed together
}

func scanCustomer(rows interface{ Scan(...any) error }) (*sealedCustomer, error) {
	var c sealedCustomer
	var tags string
	err := rows.Scan(&c.ID, &c.ExternalRef, &c.enc, &c.Region, &tags, &c.Locale, &c.TimeZone, &c.Status, &c.ImportID, &c.CreatedAt, &c.UpdatedAt)
	if tags != "" {
		c.Tags = strings.Split(tags, ",")
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, err
}

// Personal is a customer's personal fields. They are stored as one sealed
// column, pii_enc: this struct's JSON sealed with the customer's data key
// under the context customerID+"/pii" (one AES-GCM seal per customer
// rather than one per field).
type Personal struct {
	Name         string `json:"name,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	WeChatOpenID string `json:"wechat_openid,omitempty"`
	Company      string `json:"company,omitempty"`
	Address      string `json:"address,omitempty"`
}

// piiContext is the Seal context of a customer's pii_enc.
func piiContext(id string) string { return id + "/pii" }

// SealPersonal seals p for customer id; no personal fields seal to "".
func SealPersonal(dk *pii.DataKey, id string, p *Personal) string {
	if *p == (Personal{}) {
		return ""
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: strings only
		panic(err)
	}
	return dk.Seal(string(b), piiContext(id))
}

// OpenPersonal opens a pii_enc that SealPersonal made. Errors never quote
// the plaintext.
func OpenPersonal(dk *pii.DataKey, id, enc string) (Personal, error) {
	var p Personal
	pt, err := dk.Open(enc, piiContext(id))
	if err != nil {
		return p, fmt.Errorf("customer %s personal fields: %w", id, err)
	}
	if pt == "" {
		return p, nil
	}
	if err := json.Unmarshal([]byte(pt), &p); err != nil {
		return Personal{}, fmt.Errorf("customer %s personal fields are malformed", id)
	}
	return p, nil
}

// open decrypts the sealed fields. A customer whose data key was destroyed
// (erased) keeps empty personal fields.
func (s *Store) open(ctx context.Context, q pii.Querier, sealed []*sealedCustomer) ([]*Customer, error) {
	ids := make([]string, len(sealed))
	for i, c := range sealed {
		ids[i] = c.ID
	}
	keys, err := s.vault.CustomerKeys(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]*Customer, len(sealed))
	for i, c := range sealed {
		out[i] = &c.Customer
		dk := keys[c.ID]
		if dk == nil {
			continue
		}
		p, err := OpenPersonal(dk, c.ID, c.enc)
		if err != nil {
			return nil, err
		}
		c.Name, c.Phone, c.Email, c.WeChatOpenID, c.Company, c.Address = p.Name, p.Phone, p.Email, p.WeChatOpenID, p.Company, p.Address
	}
	return out, nil
}

// FindCustomerByID returns the customer, decrypted.
func (s *Store) FindCustomerByID(ctx context.Context, id string) (*Customer, error) {
	return s.findCustomerByID(ctx, s.db, id)
}

// FindCustomerByIDTx is FindCustomerByID inside the caller's transaction.
func (s *Store) FindCustomerByIDTx(ctx context.Context, tx *database.Tx, id string) (*Customer, error) {
	return s.findCustomerByID(ctx, tx, id)
}

func (s *Store) findCustomerByID(ctx context.Context, q database.Querier, id string) (*Customer, error) {
	sc, err := scanCustomer(q.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	if err == sql.ErrNoRows {
		return nil, handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	} else if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	list, err := s.open(ctx, q, []*sealedCustomer{sc})
	if err != nil {
		return nil, err
	}
	return list[0], nil
}

// Filter selects customers for FindCustomers. Phone and Email match
// exactly, through the blind index.
type Filter struct {
	Cursor   string // the nextCursor of the previous page; "" for the first
	Limit    int    // default 50, at most 500
	Region   string
	Tag      string
	Status   Status
	Phone    string
	Email    string
	ImportID string
}

// FindCustomers lists customers matching f in id (creation) order, decrypted;
// callers mask them. nextCursor is "" after the last page.
func (s *Store) FindCustomers(ctx context.Context, f Filter) (list []*Customer, nextCursor string, err error) {
	where, args := []string{"1 = 1"}, []any{}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Cursor != "" {
		if _, err := ulid.ParseStrict(f.Cursor); err != nil {
			return nil, "", handover.Errorf(handover.EINVALID, "cursor is not valid")
		}
		add("id > $%d", f.Cursor)
	}
	if f.Region != "" {
		add("region = $%d", f.Region)
	}
	if f.Tag != "" {
		add(`(',' || tags || ',') LIKE $%d ESCAPE '\'`, "%,"+escapeLike(f.Tag)+",%")
	}
	if f.Status != "" {
		if f.Status != StatusActive && f.Status != StatusOptedOut && f.Status != StatusErased {
			return nil, "", handover.Errorf(handover.EINVALID, "status must be active, opted_out or erased")
		}
		add("status = $%d", f.Status)
	}
	if f.Phone != "" {
		phone, err := NormalizePhone(f.Phone)
		if err != nil {
			return nil, "", handover.Errorf(handover.EINVALID, "phone filter: %s", handover.ErrorMessage(err))
		}
		add("phone_idx = $%d", s.vault.Index.Phone(phone))
	}
	if f.Email != "" {
		email, err := NormalizeEmail(f.Email)
		if err != nil {
			return nil, "", handover.Errorf(handover.EINVALID, "email filter: %s", handover.ErrorMessage(err))
		}
		add("email_idx = $%d", s.vault.Index.Email(email))
	}
	if f.ImportID != "" {
		add("import_id = $%d", f.ImportID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	sealed, err := database.QueryAll(ctx, s.db, scanCustomer, `SELECT `+customerColumns+` FROM customers WHERE `+strings.Join(where, " AND ")+
		fmt.Sprintf(` ORDER BY id LIMIT %d`, limit+1), args...)
	if err != nil {
		return nil, "", fmt.Errorf("find customers: %w", err)
	}
	if len(sealed) > limit {
		sealed = sealed[:limit]
		nextCursor = sealed[limit-1].ID
	}
	list, err = s.open(ctx, s.db, sealed)
	return list, nextCursor, err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// RevealCustomer returns the customer decrypted for a staff member who gave
// a reason, and records that in the audit log in the same transaction.
func (s *Store) RevealCustomer(ctx context.Context, id, actor, reason string) (*Customer, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, handover.Errorf(handover.EINVALID, "a reason is required to reveal a customer's details")
	}
	if len([]rune(reason)) > 500 {
		return nil, handover.Errorf(handover.EINVALID, "reason must be at most 500 characters")
	}
	var c *Customer
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		var err error
		if c, err = s.findCustomerByID(ctx, tx, id); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]string{"reason": reason})
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.reveal", ObjectType: "customer", ObjectID: id, Detail: string(detail)})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// LockCustomer takes the customer's row lock for the rest of tx, so that
// two requests for the same customer (two codes, two corrections) queue.
// SQLite's immediate transactions already serialise writers.
func LockCustomer(ctx context.Context, tx *database.Tx, customerID string) (status Status, err error) {
	err = tx.QueryRowContext(ctx, `UPDATE customers SET status = status WHERE id = $1 RETURNING status`, customerID).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", handover.Errorf(handover.ENOTFOUND, "Customer not found.")
	} else if err != nil {
		return "", fmt.Errorf("lock customer: %w", err)
	}
	return status, nil
}
