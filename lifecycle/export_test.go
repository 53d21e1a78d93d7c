package lifecycle_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/assessments"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/transfers"
)

// world is a database with customers, a transfer and consent decisions.
type world struct {
	db        *database.DB
	customers *customers.Store
	transfer  *transfers.Transfer
	ids       map[string]string // phone → customer id
}

// phones of the seeded customers, in import order.
var phones = []string{"13800000000", "13800000001", "13800000002", "13800000003", "13800000004", "13800000005"}

// seed imports six customers and records: c0, c1 grant both purposes; c2
// grants only 订单履约 and declines 营销; c3 declines both; c4 grants both
// and then withdraws 营销; c5 never answers.
func seed(t testing.TB, db *database.DB) *world {
	t.Helper()
	return seedWith(t, db, piitest.Vault(t, db))
}

// seedWith is seed with the caller's vault.
func seedWith(t testing.TB, db *database.DB, vault *pii.Vault) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{db: db, customers: customers.NewStore(db, vault), ids: map[string]string{}}
	lines := []string{"姓名,手机,邮箱,地址"}
	for i, p := range phones {
		lines = append(lines, fmt.Sprintf("客户%d,%s,c%d@example.com,上海市%d号", i, p, i, i))
	}
	path := filepath.Join(t.TempDir(), "c.csv")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	im := importer.New(w.customers, filepath.Join(t.TempDir(), "spool"), nil)
	if _, err := im.Run(ctx, path, nil, "test", nil); err != nil {
		t.Fatal(err)
	}
	list, _, err := w.customers.FindCustomers(ctx, customers.Filter{Limit: 100})
	if err != nil || len(list) != len(phones) {
		t.Fatalf("imported %d customers, %v", len(list), err)
	}
	for _, c := range list {
		w.ids[strings.TrimPrefix(c.Phone, "+86")] = c.ID
	}
	w.transfer = &transfers.Transfer{SellerName: "甲公司", BuyerName: "乙公司", BuyerContact: "400-800-1234", EffectiveDate: "2026-03-01",
		Purposes: []string{"订单履约", "营销"}, DataCategories: []string{"name", "phone"}, RetentionDays: 30}
	if err := transfers.NewStore(db).CreateTransfer(ctx, w.transfer, "staff:s1"); err != nil {
		t.Fatal(err)
	}
	decide := func(i int, purpose, decision string) {
		id := w.ids[phones[i]]
		_, err := w.customers.RecordConsent(ctx, []customers.ConsentDecision{{CustomerID: id, TransferID: w.transfer.ID, Purpose: purpose,
			Decision: decision, Source: customers.SourcePortal, NoticeHash: "notice-v1", IP: "203.0.113.9", UserAgent: "MicroMessenger", Actor: "customer:" + id}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 1, 4} {
		decide(i, "订单履约", customers.ConsentGranted)
		decide(i, "营销", customers.ConsentGranted)
	}
	decide(2, "订单履约", customers.ConsentGranted)
	decide(2, "营销", customers.ConsentDeclined)
	decide(3, "订单履约", customers.ConsentDeclined)
	decide(3, "营销", customers.ConsentDeclined)
	decide(4, "营销", customers.ConsentWithdrawn)
	return w
}

// openPackage decrypts a package with identity, checks every file against
// the manifest and returns the manifest and the customers.
func openPackage(t *testing.T, pkg []byte, identity age.Identity) (*lifecycle.Manifest, []lifecycle.ExportedCustomer) {
	t.Helper()
	r, err := age.Decrypt(bytes.NewReader(pkg), identity)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	tr := tar.NewReader(r)
	files := map[string][]byte{}
	var order []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		files[h.Name] = b
		order = append(order, h.Name)
	}
	if order[len(order)-1] != "manifest.json" {
		t.Errorf("files %v: manifest.json is not last", order)
	}
	var m lifecycle.Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil {
		t.Fatal(err)
	}
	var out []lifecycle.ExportedCustomer
	for _, f := range m.Files {
		sum := sha256.Sum256(files[f.Name])
		if hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(files[f.Name])) != f.Bytes {
			t.Errorf("%s does not match its manifest digest", f.Name)
		}
		dec := json.NewDecoder(bytes.NewReader(files[f.Name]))
		for dec.More() {
			var c lifecycle.ExportedCustomer
			if err := dec.Decode(&c); err != nil {
				t.Fatal(err)
			}
			out = append(out, c)
		}
	}
	if len(files) != len(m.Files)+1 {
		t.Errorf("package has %d files, manifest lists %d", len(files), len(m.Files))
	}
	return &m, out
}

func TestExportToBuyer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		w := seed(t, db)
		buyer, _ := age.GenerateX25519Identity()
		seller, _ := age.GenerateX25519Identity()
		ex := lifecycle.NewExporter(db, w.customers, transfers.NewStore(db))

		counts, err := ex.DryRun(ctx, w.transfer.ID, lifecycle.Rule{})
		if err != nil {
			t.Fatal(err)
		}
		want := lifecycle.Counts{Customers: 6, All: 2, Any: 4, Selected: 2, Granted: map[string]int{"订单履约": 4, "营销": 2}}
		if counts.Customers != want.Customers || counts.All != want.All || counts.Any != want.Any || counts.Selected != want.Selected ||
			counts.Granted["订单履约"] != 4 || counts.Granted["营销"] != 2 {
			t.Errorf("dry run = %+v, want %+v", counts, want)
		}
		if n := countAudit(t, db, "transfer.export"); n != 0 {
			t.Errorf("the dry run wrote %d export audit entries", n)
		}

		var pkg bytes.Buffer
		_, err = ex.Export(ctx, lifecycle.ExportRequest{TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(), Actor: "staff:admin"}, &pkg)
		if handover.ErrorCode(err) != handover.EFORBIDDEN || !strings.Contains(handover.ErrorMessage(err), "订单履约") || pkg.Len() != 0 {
			t.Fatalf("export without an impact assessment: %v, %d bytes", err, pkg.Len())
		}
		approveExport(t, db, w.transfer, "订单履约")
		_, err = ex.Export(ctx, lifecycle.ExportRequest{TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(), Actor: "staff:admin"}, &pkg)
		if handover.ErrorCode(err) != handover.EFORBIDDEN || !strings.Contains(handover.ErrorMessage(err), "营销") || pkg.Len() != 0 {
			t.Fatalf("export with one purpose assessed: %v, %d bytes", err, pkg.Len())
		}
		if n := countAudit(t, db, "transfer.export.start"); n != 0 {
			t.Errorf("refused exports wrote %d audit entries", n)
		}
		approveExport(t, db, w.transfer, "营销")
		m, err := ex.Export(ctx, lifecycle.ExportRequest{TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(), Actor: "staff:admin"}, &pkg)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(pkg.Bytes(), []byte("13800000000")) || bytes.Contains(pkg.Bytes(), []byte("客户0")) {
			t.Error("the package holds plaintext")
		}
		gotM, got := openPackage(t, pkg.Bytes(), buyer)
		if gotM.Customers != 2 || m.Customers != 2 || gotM.ExportID != m.ExportID {
			t.Errorf("manifest customers = %d (returned %d)", gotM.Customers, m.Customers)
		}
		if strings.Join(gotM.Fields, ",") != "name,phone" || gotM.AuditHead.Hash == "" || gotM.GeneratedAt.IsZero() {
			t.Errorf("manifest = %+v", gotM)
		}
		var gotPhones []string
		for _, c := range got {
			keys := make([]string, 0, len(c.Fields))
			for k := range c.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if strings.Join(keys, ",") != "name,phone" {
				t.Errorf("customer %s has fields %v, want exactly name, phone", c.ID, keys)
			}
			gotPhones = append(gotPhones, strings.TrimPrefix(c.Fields["phone"].(string), "+86"))
			if len(c.Consent) != 2 || c.Consent[0].NoticeHash != "notice-v1" || c.Consent[0].Decision != customers.ConsentGranted {
				t.Errorf("customer %s consent = %+v", c.ID, c.Consent)
			}
		}
		sort.Strings(gotPhones)
		if strings.Join(gotPhones, ",") != phones[0]+","+phones[1] {
			t.Errorf("exported %v, want the two who granted every purpose", gotPhones)
		}
		if bytes.Contains(pkg.Bytes(), []byte("203.0.113.9")) {
			t.Error("consent evidence IP in package")
		}
		if _, err := age.Decrypt(bytes.NewReader(pkg.Bytes()), seller); err == nil {
			t.Error("the seller's identity opened the buyer's package")
		}
		if countAudit(t, db, "transfer.export.start") != 1 || countAudit(t, db, "transfer.export") != 1 {
			t.Error("export not audited")
		}
		if r, err := audit.Verify(ctx, db); err != nil || !r.OK() {
			t.Errorf("audit chain: %+v %v", r, err)
		}

		// The "any" rule adds the partial grant and the withdrawal of one purpose.
		pkg.Reset()
		if _, err := ex.Export(ctx, lifecycle.ExportRequest{TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(),
			Rule: lifecycle.Rule{Mode: lifecycle.RuleAny}, Actor: "cli"}, &pkg); err != nil {
			t.Fatal(err)
		}
		if _, got := openPackage(t, pkg.Bytes(), buyer); len(got) != 4 {
			t.Errorf("any rule exported %d customers, want 4", len(got))
		}
	})
}

func TestExportBadInput(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	w := seed(t, db)
	ex := lifecycle.NewExporter(db, w.customers, transfers.NewStore(db))
	buyer, _ := age.GenerateX25519Identity()
	before := countAudit(t, db, "")
	for name, req := range map[string]lifecycle.ExportRequest{
		"ssh key":          {TransferID: w.transfer.ID, Recipient: "ssh-ed25519 AAAAC3Nza"},
		"identity":         {TransferID: w.transfer.ID, Recipient: buyer.String()},
		"unknown transfer": {TransferID: "01J0000000000000000000000", Recipient: buyer.Recipient().String()},
		"unknown purpose":  {TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(), Rule: lifecycle.Rule{Purposes: []string{"转售"}}},
		"bad rule":         {TransferID: w.transfer.ID, Recipient: buyer.Recipient().String(), Rule: lifecycle.Rule{Mode: "most"}},
	} {
		var out bytes.Buffer
		_, err := ex.Export(ctx, req, &out)
		if code := handover.ErrorCode(err); code != handover.EINVALID && code != handover.ENOTFOUND {
			t.Errorf("%s: err = %v", name, err)
		}
		if out.Len() != 0 {
			t.Errorf("%s: wrote %d bytes", name, out.Len())
		}
	}
	if countAudit(t, db, "") != before {
		t.Error("refused exports were audited as exports")
	}
}

// approveExport records and approves, by two people, an export impact
// assessment for each purpose given, or every purpose of tr.
func approveExport(t testing.TB, db *database.DB, tr *transfers.Transfer, purposes ...string) {
	t.Helper()
	if len(purposes) == 0 {
		purposes = tr.Purposes
	}
	st := assessments.NewStore(db)
	for _, p := range purposes {
		a := &assessments.Assessment{TransferID: tr.ID, Activity: assessments.ActivityExport, Purpose: p,
			Necessity: "The buyer continues the service.", Risks: "Disclosure in transit.", Measures: "Encrypted to the buyer's key."}
		if err := st.Create(context.Background(), a, tr.Purposes, "staff:dpo"); err != nil {
			t.Fatal(err)
		}
		if err := st.Decide(context.Background(), a.ID, true, "staff:admin"); err != nil {
			t.Fatal(err)
		}
	}
}

func countAudit(t testing.TB, db *database.DB, action string) int {
	t.Helper()
	var n int
	q, args := `SELECT COUNT(*) FROM audit_log`, []any{}
	if action != "" {
		q, args = q+` WHERE action = $1`, []any{action}
	}
	if err := db.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
