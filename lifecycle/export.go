package lifecycle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/oklog/ulid/v2"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/transfers"
)

// ExportFormat names the package layout in its manifest.
const ExportFormat = "handover-export/1"

// customersPerFile bounds memory: one file of the package is built in
// memory (its size goes in the tar header before its bytes), then written.
const customersPerFile = 10000

// Exporter builds the buyer's package.
type Exporter struct {
	db          *database.DB
	customers   *customers.Store
	transfers   *transfers.Store
	assessments *assessments.Store
}

// NewExporter returns an Exporter reading db through the customer and
// transfer stores.
// An export needs an approved impact assessment (PIPL Art. 55) for each
// purpose it hands over; the dry run does not.
func NewExporter(db *database.DB, cs *customers.Store, ts *transfers.Store) *Exporter {
	return &Exporter{db: db, customers: cs, transfers: ts, assessments: assessments.NewStore(db)}
}

// ParseRecipient parses the buyer's age X25519 public key (age1…).
func ParseRecipient(s string) (*age.X25519Recipient, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(s))
	if err != nil {
		return nil, handover.Errorf(handover.EINVALID, "The buyer key must be an age X25519 public key (age1…); generate one with age-keygen.")
	}
	return r, nil
}

// ExportRequest is one export to a buyer.
type ExportRequest struct {
	TransferID string
	Recipient  string // the buyer's age public key
	Rule       Rule
	Actor      string // "staff:ID" or "cli"
}

// Manifest describes a package; it is its last file, manifest.json.
type Manifest struct {
	Format        string         `json:"format"`
	ExportID      string         `json:"export_id"`
	TransferID    string         `json:"transfer_id"`
	SellerName    string         `json:"seller_name"`
	BuyerName     string         `json:"buyer_name"`
	GeneratedAt   time.Time      `json:"generated_at"`
	Rule          string         `json:"rule"`
	Purposes      []string       `json:"purposes"`
	Fields        []string       `json:"fields"`
	Customers     int            `json:"customers"`
	ConsentEvents int            `json:"consent_events"`
	Files         []ManifestFile `json:"files"`
	// AuditHead is the audit chain head when the export started (its
	// start is the entry at that seq).
	AuditHead AuditHead `json:"audit_head"`
}

// ManifestFile is one file of the package with its digest.
type ManifestFile struct {
	Name      string `json:"name"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
	Customers int    `json:"customers"`
}

// AuditHead is the audit chain's last entry.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// ExportedCustomer is one line of a customers-NNNNN.jsonl file: the id,
// only the fields the transfer's data categories list, and the consent
// ledger for the transfer.
type ExportedCustomer struct {
	ID      string            `json:"id"`
	Fields  map[string]any    `json:"fields"`
	Consent []ExportedConsent `json:"consent_events"`
}

// ExportedConsent is a consent decision as evidence for the buyer, without
// the IP address or user agent (data minimisation).
type ExportedConsent struct {
	Purpose    string    `json:"purpose"`
	Decision   string    `json:"decision"`
	Source     string    `json:"source"`
	NoticeHash string    `json:"notice_hash"`
	At         time.Time `json:"at"`
}

// DryRun counts, without writing anything, the customers each rule would
// hand over.
func (e *Exporter) DryRun(ctx context.Context, transferID string, rule Rule) (*Counts, error) {
	t, err := e.transfers.FindTransferByID(ctx, transferID)
	if err != nil {
		return nil, err
	}
	if rule, err = rule.resolve(t); err != nil {
		return nil, err
	}
	c := &Counts{TransferID: t.ID, Rule: rule.Mode, Purposes: rule.Purposes, Granted: map[string]int{}}
	if c.Customers, err = e.count(ctx, `SELECT COUNT(*) FROM customers WHERE status <> 'erased'`); err != nil {
		return nil, err
	}
	for _, p := range t.Purposes {
		if c.Granted[p], err = e.count(ctx, `SELECT COUNT(*) FROM consent_state cs JOIN customers c ON c.id = cs.customer_id
			WHERE cs.transfer_id = $1 AND cs.purpose = $2 AND cs.decision = 'granted' AND c.status <> 'erased'`, t.ID, p); err != nil {
			return nil, err
		}
	}
	for _, r := range []struct {
		mode string
		n    *int
	}{{RuleAll, &c.All}, {RuleAny, &c.Any}} {
		q, args := Rule{Mode: r.mode, Purposes: t.Purposes}.selectSQL(0)
		if *r.n, err = e.count(ctx, `SELECT COUNT(*) FROM (`+q+`) x`, append([]any{t.ID, ""}, args...)...); err != nil {
			return nil, err
		}
	}
	q, args := rule.selectSQL(0)
	if c.Selected, err = e.count(ctx, `SELECT COUNT(*) FROM (`+q+`) x`, append([]any{t.ID, ""}, args...)...); err != nil {
		return nil, err
	}
	return c, nil
}

// Export writes the package for req to w: a tar of customers-NNNNN.jsonl
// files and a manifest.json, encrypted with age to the buyer's key alone.
// Customers are read a page at a time, so memory stays bounded whatever
// the list's size. The start and the completion are audited; the
// completion entry carries the package's SHA-256.
func (e *Exporter) Export(ctx context.Context, req ExportRequest, w io.Writer) (*Manifest, error) {
	recipient, err := ParseRecipient(req.Recipient)
	if err != nil {
		return nil, err
	}
	t, err := e.transfers.FindTransferByID(ctx, req.TransferID)
	if err != nil {
		return nil, err
	}
	rule, err := req.Rule.resolve(t)
	if err != nil {
		return nil, err
	}
	if err := e.assessments.Require(ctx, t.ID, assessments.ActivityExport, rule.Purposes); err != nil {
		return nil, err
	}
	m := &Manifest{Format: ExportFormat, ExportID: ulid.Make().String(), TransferID: t.ID, SellerName: t.SellerName,
		BuyerName: t.BuyerName, Rule: rule.Mode, Purposes: rule.Purposes, Fields: t.DataCategories}
	err = e.db.InTx(ctx, func(tx *database.Tx) error {
		m.GeneratedAt = tx.Now
		detail, _ := json.Marshal(map[string]any{"export": m.ExportID, "rule": rule.Mode, "purposes": rule.Purposes,
			"fields": t.DataCategories, "recipient": recipient.String()})
		if err := audit.Record(ctx, tx, audit.Entry{Actor: req.Actor, Action: "transfer.export.start", ObjectType: "transfer", ObjectID: t.ID, Detail: string(detail)}); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&m.AuditHead.Seq, &m.AuditHead.Hash)
	})
	if err != nil {
		return nil, err
	}
	digest := sha256.New()
	enc, err := age.Encrypt(io.MultiWriter(w, digest), recipient)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	tw := tar.NewWriter(enc)
	if err := e.writeCustomers(ctx, tw, t, rule, m); err != nil {
		return nil, err
	}
	body, _ := json.MarshalIndent(m, "", "  ")
	if err := writeFile(tw, "manifest.json", m.GeneratedAt, body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	err = e.db.InTx(ctx, func(tx *database.Tx) error {
		detail, _ := json.Marshal(map[string]any{"export": m.ExportID, "customers": m.Customers, "consent_events": m.ConsentEvents,
			"files": len(m.Files), "package_sha256": hex.EncodeToString(digest.Sum(nil))})
		return audit.Record(ctx, tx, audit.Entry{Actor: req.Actor, Action: "transfer.export", ObjectType: "transfer", ObjectID: t.ID, Detail: string(detail)})
	})
	return m, err
}

// writeCustomers pages through the selected customers and writes them in
// files of customersPerFile.
func (e *Exporter) writeCustomers(ctx context.Context, tw *tar.Writer, t *transfers.Transfer, rule Rule, m *Manifest) error {
	const page = 500
	var buf bytes.Buffer
	inFile := 0
	flush := func() error {
		if inFile == 0 {
			return nil
		}
		name := fmt.Sprintf("customers-%05d.jsonl", len(m.Files)+1)
		sum := sha256.Sum256(buf.Bytes())
		if err := writeFile(tw, name, m.GeneratedAt, buf.Bytes()); err != nil {
			return err
		}
		m.Files = append(m.Files, ManifestFile{Name: name, Bytes: int64(buf.Len()), SHA256: hex.EncodeToString(sum[:]), Customers: inFile})
		buf.Reset()
		inFile = 0
		return nil
	}
	jw := json.NewEncoder(&buf)
	jw.SetEscapeHTML(false)
	cursor := ""
	for {
		q, args := rule.selectSQL(page)
		ids, err := e.db.QueryIDs(ctx, q, append([]any{t.ID, cursor}, args...)...)
		if err != nil {
			return fmt.Errorf("export: select customers: %w", err)
		}
		if len(ids) == 0 {
			return flush()
		}
		cursor = ids[len(ids)-1]
		found, err := e.customers.FindCustomersByIDs(ctx, ids)
		if err != nil {
			return err
		}
		events, err := e.consentEvents(ctx, t.ID, ids)
		if err != nil {
			return err
		}
		for _, id := range ids {
			c := found[id]
			if c == nil {
				continue // deleted since the page was selected
			}
			ec := ExportedCustomer{ID: id, Fields: minimise(c, t.DataCategories), Consent: events[id]}
			if err := jw.Encode(ec); err != nil {
				return fmt.Errorf("export: %w", err)
			}
			m.Customers++
			m.ConsentEvents += len(ec.Consent)
			if inFile++; inFile == customersPerFile {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
}

// minimise keeps only the fields the transfer hands over.
func minimise(c *customers.Customer, categories []string) map[string]any {
	out := make(map[string]any, len(categories))
	for _, cat := range categories {
		switch cat {
		case "name":
			out[cat] = c.Name
		case "phone":
			out[cat] = c.Phone
		case "email":
			out[cat] = c.Email
		case "wechat_openid":
			out[cat] = c.WeChatOpenID
		case "company":
			out[cat] = c.Company
		case "address":
			out[cat] = c.Address
		case "region":
			out[cat] = c.Region
		case "tags":
			tags := c.Tags
			if tags == nil {
				tags = []string{}
			}
			out[cat] = tags
		}
	}
	return out
}

// consentEvents loads the transfer's ledger for a page of customers (ids
// in order): a range on the ledger's customer index rather than a list of
// bound ids; events of customers in the range but not in the page are
// dropped.
func (e *Exporter) consentEvents(ctx context.Context, transferID string, ids []string) (map[string][]ExportedConsent, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := map[string][]ExportedConsent{}
	err := database.EachRow(ctx, e.db, func(row database.Scanner) error {
		var id string
		var ev ExportedConsent
		if err := row.Scan(&id, &ev.Purpose, &ev.Decision, &ev.Source, &ev.NoticeHash, &ev.At); err != nil {
			return err
		}
		if want[id] {
			ev.At = ev.At.UTC()
			out[id] = append(out[id], ev)
		}
		return nil
	}, `SELECT customer_id, purpose, decision, source, notice_hash, created_at FROM consent_events
		WHERE customer_id >= $1 AND customer_id <= $2 AND transfer_id = $3 ORDER BY customer_id, created_at, id`, ids[0], ids[len(ids)-1], transferID)
	if err != nil {
		return nil, fmt.Errorf("export: consent events: %w", err)
	}
	return out, nil
}

// writeFile adds one regular file to the tar.
func writeFile(tw *tar.Writer, name string, at time.Time, body []byte) error {
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), ModTime: at, Typeflag: tar.TypeReg}); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := tw.Write(body); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	return nil
}
