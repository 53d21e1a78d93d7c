package rights

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
)

// DataAccessTTL is how long a confirmed code lets a customer see their
// own data.
const DataAccessTTL = 15 * time.Minute

// CustomerData is everything held about one customer (PIPL Art. 45): what
// they can see and download, and what staff give them on request.
type CustomerData struct {
	GeneratedAt time.Time          `json:"generated_at"`
	Customer    CustomerRecord     `json:"customer"`
	Consent     []ConsentRecord    `json:"consent"`
	Corrections []CorrectionRecord `json:"corrections"`
	Deliveries  []DeliveryRecord   `json:"deliveries"`
	Optouts     []ChannelOptout    `json:"channel_optouts"`
	Erasure     []ErasureDecision  `json:"erasure_decisions"`
}

// CustomerRecord is the customer's own fields, unmasked.
type CustomerRecord struct {
	ID           string           `json:"id"`
	ExternalRef  string           `json:"external_ref"`
	Name         string           `json:"name"`
	Phone        string           `json:"phone"`
	Email        string           `json:"email"`
	WeChatOpenID string           `json:"wechat_openid"`
	Company      string           `json:"company"`
	Address      string           `json:"address"`
	Region       string           `json:"region"`
	Tags         []string         `json:"tags"`
	Locale       string           `json:"locale"`
	TimeZone     string           `json:"time_zone"`
	Status       customers.Status `json:"status"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
}

// ConsentRecord is one consent decision with its evidence.
type ConsentRecord struct {
	ID         string    `json:"id"`
	TransferID string    `json:"transfer_id"`
	Purpose    string    `json:"purpose"`
	Decision   string    `json:"decision"`
	Source     string    `json:"source"`
	NoticeHash string    `json:"notice_hash"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	CreatedAt  time.Time `json:"created_at"`
}

// CorrectionRecord is one of the customer's correction requests.
type CorrectionRecord struct {
	ID        string           `json:"id"`
	Status    CorrectionStatus `json:"status"`
	Proposed  CorrectionFields `json:"proposed"`
	Reason    string           `json:"reason,omitempty"`
	CreatedAt time.Time        `json:"created_at"`
	DecidedAt *time.Time       `json:"decided_at,omitempty"`
}

// DeliveryRecord is one message a campaign planned or sent to the customer.
type DeliveryRecord struct {
	CampaignID   string     `json:"campaign_id"`
	CampaignName string     `json:"campaign_name"`
	Channel      string     `json:"channel"`
	Status       string     `json:"status"`
	SentAt       *time.Time `json:"sent_at,omitempty"`
}

// ChannelOptout is an opt-out of one channel.
type ChannelOptout struct {
	Channel string `json:"channel"`
	// Kind is promotional, survey or service; "*" every kind.
	Kind      string    `json:"kind"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
}

// CustomerData gathers everything held about the customer and records in
// the audit log that actor saw it.
func (s *Store) CustomerData(ctx context.Context, id, actor string) (*CustomerData, error) {
	var d *CustomerData
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		cu, err := s.customers.FindCustomerByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		tags := append([]string{}, cu.Tags...)
		d = &CustomerData{GeneratedAt: tx.Now, Customer: CustomerRecord{ID: cu.ID, ExternalRef: cu.ExternalRef, Name: cu.Name, Phone: cu.Phone,
			Email: cu.Email, WeChatOpenID: cu.WeChatOpenID, Company: cu.Company, Address: cu.Address, Region: cu.Region, Tags: tags,
			Locale: cu.Locale, TimeZone: cu.TimeZone, Status: cu.Status, CreatedAt: cu.CreatedAt, UpdatedAt: cu.UpdatedAt},
			Consent: []ConsentRecord{}, Corrections: []CorrectionRecord{}, Deliveries: []DeliveryRecord{}, Optouts: []ChannelOptout{}, Erasure: []ErasureDecision{}}
		corrections, err := s.customerCorrections(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, r := range corrections {
			d.Corrections = append(d.Corrections, CorrectionRecord{ID: r.ID, Status: r.Status, Proposed: r.Proposed, Reason: r.Reason,
				CreatedAt: r.CreatedAt, DecidedAt: r.DecidedAt})
		}
		if err := readDeliveries(ctx, tx, id, d); err != nil {
			return err
		}
		if err := readOptouts(ctx, tx, id, d); err != nil {
			return err
		}
		if d.Erasure, err = erasureDecisions(ctx, tx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "customer.data_export", ObjectType: "customer", ObjectID: id})
	})
	if err != nil {
		return nil, err
	}
	events, err := s.customers.ConsentHistory(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.Consent = append(d.Consent, ConsentRecord{ID: e.ID, TransferID: e.TransferID, Purpose: e.Purpose, Decision: e.Decision,
			Source: e.Source, NoticeHash: e.NoticeHash, IP: e.IP, UserAgent: e.UserAgent, CreatedAt: e.CreatedAt})
	}
	return d, nil
}

func readDeliveries(ctx context.Context, tx *database.Tx, id string, d *CustomerData) error {
	err := database.EachRow(ctx, tx, func(row database.Scanner) error {
		var r DeliveryRecord
		var sent sql.NullTime
		if err := row.Scan(&r.CampaignID, &r.CampaignName, &r.Channel, &r.Status, &sent); err != nil {
			return err
		}
		if sent.Valid {
			t := sent.Time.UTC()
			r.SentAt = &t
		}
		d.Deliveries = append(d.Deliveries, r)
		return nil
	}, `SELECT d.campaign_id, c.name, d.channel, d.status, d.sent_at FROM deliveries d
		JOIN campaigns c ON c.id = d.campaign_id WHERE d.customer_id = $1 ORDER BY d.id`, id)
	if err != nil {
		return fmt.Errorf("customer deliveries: %w", err)
	}
	return nil
}

func readOptouts(ctx context.Context, tx *database.Tx, id string, d *CustomerData) error {
	err := database.EachRow(ctx, tx, func(row database.Scanner) error {
		var o ChannelOptout
		if err := row.Scan(&o.Channel, &o.Kind, &o.Source, &o.CreatedAt); err != nil {
			return err
		}
		o.CreatedAt = o.CreatedAt.UTC()
		d.Optouts = append(d.Optouts, o)
		return nil
	}, `SELECT channel, kind, source, created_at FROM channel_optouts WHERE customer_id = $1 ORDER BY channel, kind`, id)
	if err != nil {
		return fmt.Errorf("customer opt-outs: %w", err)
	}
	return nil
}

// WriteJSON writes the data as indented JSON.
func (d *CustomerData) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(d)
}

// WriteCSV writes the data as one CSV table of section, record id, field
// and value, so that every part fits one sheet.
func (d *CustomerData) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	put := func(section, id, field, value string) { _ = cw.Write([]string{section, id, field, csvSafe(value)}) }
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	put("section", "id", "field", "value")
	c := d.Customer
	for _, f := range [][2]string{{"external_ref", c.ExternalRef}, {"name", c.Name}, {"phone", c.Phone}, {"email", c.Email},
		{"wechat_openid", c.WeChatOpenID}, {"company", c.Company}, {"address", c.Address}, {"region", c.Region},
		{"tags", strings.Join(c.Tags, ",")}, {"locale", c.Locale}, {"time_zone", c.TimeZone}, {"status", c.Status.String()}, {"created_at", ts(c.CreatedAt)}, {"updated_at", ts(c.UpdatedAt)}} {
		put("customer", c.ID, f[0], f[1])
	}
	for _, e := range d.Consent {
		for _, f := range [][2]string{{"transfer_id", e.TransferID}, {"purpose", e.Purpose}, {"decision", e.Decision}, {"source", e.Source},
			{"notice_hash", e.NoticeHash}, {"ip", e.IP}, {"user_agent", e.UserAgent}, {"created_at", ts(e.CreatedAt)}} {
			put("consent", e.ID, f[0], f[1])
		}
	}
	for _, r := range d.Corrections {
		put("correction", r.ID, "status", r.Status.String())
		for _, name := range correctionFieldNames {
			if v := *r.Proposed.field(name); v != "" {
				put("correction", r.ID, "proposed_"+name, v)
			}
		}
		put("correction", r.ID, "created_at", ts(r.CreatedAt))
		if r.Reason != "" {
			put("correction", r.ID, "reason", r.Reason)
		}
	}
	for i, r := range d.Deliveries {
		id := fmt.Sprint(i + 1)
		put("delivery", id, "campaign", r.CampaignName)
		put("delivery", id, "channel", r.Channel)
		put("delivery", id, "status", r.Status)
		if r.SentAt != nil {
			put("delivery", id, "sent_at", ts(*r.SentAt))
		}
	}
	for _, o := range d.Optouts {
		put("channel_optout", o.Channel+":"+o.Kind, "created_at", ts(o.CreatedAt))
	}
	for _, e := range d.Erasure {
		put("erasure", e.ID, e.Decision, e.Reason)
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a spreadsheet from running a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// StartDataAccess sends a code to the customer's phone, email or WeChat
// on file (via "phone", "email" or "wechat") so that they can see their
// data.
func (s *Store) StartDataAccess(ctx context.Context, customerID, via string, send SendFunc) (*Challenge, error) {
	var to channels.Address
	var code, locale string
	var ch *Challenge
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		if status, err := customers.LockCustomer(ctx, tx, customerID); err != nil {
			return err
		} else if status == customers.StatusErased {
			return handover.Errorf(handover.ENOTFOUND, "Customer not found.")
		}
		cu, err := s.customers.FindCustomerByIDTx(ctx, tx, customerID)
		if err != nil {
			return err
		}
		switch via {
		case "phone":
			to.Phone = cu.Phone
		case "email":
			to.Email = cu.Email
		case "wechat":
			to.OpenID = cu.WeChatOpenID
		default:
			return handover.Errorf(handover.EINVALID, "A code can go to your phone, your email or your WeChat.")
		}
		if to == (channels.Address{}) {
			return handover.Errorf(handover.EINVALID, "There is no %s on file to send a code to.", via)
		}
		locale = cu.Locale
		code, ch, err = issueCode(ctx, tx, customerID, codeDataAccess, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	ch.To = maskAddress(to)
	if err := s.sendCode(ctx, send, ch, codeMessage(ch, customerID, locale, to, code)); err != nil {
		return nil, err
	}
	return ch, nil
}

// DataAccessGrant lets a customer see their data until ExpiresAt.
type DataAccessGrant struct {
	Token     string
	ExpiresAt time.Time
}

func grantHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// VerifyDataAccess checks the code of a challenge StartDataAccess made and
// returns a grant for CheckDataAccess. A wrong, expired or used code is
// EINVALID.
func (s *Store) VerifyDataAccess(ctx context.Context, customerID, challengeID, code string) (*DataAccessGrant, error) {
	var grant *DataAccessGrant
	err := s.db.InTx(ctx, func(tx *database.Tx) error {
		_, ok, err := checkCode(ctx, tx, challengeID, customerID, codeDataAccess, code)
		if err != nil || !ok {
			return err
		}
		raw := make([]byte, 18)
		rand.Read(raw)
		grant = &DataAccessGrant{Token: base64.RawURLEncoding.EncodeToString(raw), ExpiresAt: tx.Now.Add(DataAccessTTL)}
		if _, err := tx.ExecContext(ctx, `INSERT INTO data_access_grants (token_hash, customer_id, expires_at, created_at) VALUES ($1, $2, $3, $4)`,
			grantHash(grant.Token), customerID, grant.ExpiresAt, tx.Now); err != nil {
			return fmt.Errorf("store data access grant: %w", err)
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: "customer:" + customerID, Action: "customer.data_access_verified", ObjectType: "customer", ObjectID: customerID})
	})
	if err != nil {
		return nil, err
	}
	if grant == nil {
		return nil, errWrongCode
	}
	return grant, s.recordDataAccess(ctx, customerID)
}

// CheckDataAccess reports EUNAUTHORIZED unless token is an unexpired grant
// for this customer.
func (s *Store) CheckDataAccess(ctx context.Context, customerID, token string) error {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM data_access_grants WHERE token_hash = $1 AND customer_id = $2 AND expires_at > $3`,
		grantHash(token), customerID, s.db.Now()).Scan(&n)
	if err != nil {
		return fmt.Errorf("check data access: %w", err)
	}
	if n == 0 || token == "" {
		return handover.Errorf(handover.EUNAUTHORIZED, "Confirm a code to see your data.")
	}
	return nil
}
