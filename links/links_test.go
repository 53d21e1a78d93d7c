package links_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/links"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/transfers"
)

type env struct {
	db       *database.DB
	links    *links.Store
	customer string
	transfer string
}

func newEnv(t *testing.T, db *database.DB) *env {
	t.Helper()
	ctx := context.Background()
	vault := piitest.Vault(t, db)
	cs := customers.NewStore(db, vault)
	im := importer.New(cs, filepath.Join(t.TempDir(), "spool"), nil)
	t.Cleanup(im.Wait)
	path := filepath.Join(t.TempDir(), "list.csv")
	if err := os.WriteFile(path, []byte("姓名,手机\n张三,13812345678\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := im.Run(ctx, path, nil, "cli", nil); err != nil {
		t.Fatal(err)
	}
	var id string
	if err := db.QueryRowContext(ctx, `SELECT id FROM customers`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	tr := &transfers.Transfer{SellerName: "华东五金", BuyerName: "江南商贸", BuyerContact: "400-800-1234", EffectiveDate: "2025-07-01",
		Purposes: []string{"订单履行", "营销推广"}, DataCategories: []string{"name", "phone"}, RetentionDays: 90}
	if err := transfers.NewStore(db).CreateTransfer(ctx, tr, "cli"); err != nil {
		t.Fatal(err)
	}
	return &env{db: db, links: links.NewStore(db, vault, cs, transfers.NewStore(db), 0), customer: id, transfer: tr.ID}
}

func TestIssueOpenRevoke(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		token, l, err := e.links.Issue(ctx, links.IssueRequest{CustomerID: e.customer, TransferID: e.transfer, Purposes: []string{"营销推广"}, Actor: "staff:1"})
		if err != nil {
			t.Fatal(err)
		}
		if len(token) != links.TokenLen || l.TokenHash != links.HashToken(token) || strings.Contains(l.TokenHash, token) {
			t.Fatalf("token %q hash %q", token, l.TokenHash)
		}
		var stored int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM links WHERE token_hash = $1`, token).Scan(&stored)
		if stored != 0 {
			t.Fatal("the token itself is stored")
		}
		for i := 1; i <= 3; i++ {
			got, err := e.links.Open(ctx, token)
			if err != nil || got.OpenCount != int64(i) || got.FirstOpenedAt == nil || got.ID != l.ID {
				t.Fatalf("open %d: %+v, %v", i, got, err)
			}
		}
		if got, err := e.links.Resolve(ctx, token); err != nil || got.OpenCount != 3 || len(got.Purposes) != 1 {
			t.Fatalf("resolve: %+v, %v", got, err)
		}
		if _, err := e.links.Open(ctx, "AAAAAAAAAAAAAA"); err != links.ErrUnknown {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := e.links.Revoke(ctx, l.ID, "staff:1"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.links.Revoke(ctx, l.ID, "staff:1"); err != nil {
			t.Fatal("second revoke:", err)
		}
		if _, err := e.links.Open(ctx, token); err != links.ErrRevoked {
			t.Fatalf("revoked: %v", err)
		}
		var audits int
		db.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log WHERE action IN ('link.issue', 'link.revoke')`).Scan(&audits)
		if audits != 2 {
			t.Fatalf("audit entries = %d, want 2", audits)
		}
	})
}

// TestLegacyTokenResolves: a link sent before tokens had a time prefix (14
// random characters, stored under their SHA-256 alone) still opens.
func TestLegacyTokenResolves(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		_, l, err := e.links.Issue(ctx, links.IssueRequest{CustomerID: e.customer, TransferID: e.transfer, Actor: "staff:1"})
		if err != nil {
			t.Fatal(err)
		}
		const legacy = "Ab3dE5gH1jK2mN"
		sum := sha256.Sum256([]byte(legacy))
		if _, err := db.ExecContext(ctx, `UPDATE links SET token_hash = $1 WHERE id = $2`, hex.EncodeToString(sum[:]), l.ID); err != nil {
			t.Fatal(err)
		}
		if got, err := e.links.Open(ctx, legacy); err != nil || got.ID != l.ID {
			t.Fatalf("legacy token: %+v, %v", got, err)
		}
	})
}

func TestExpiredAndInvalid(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, dbtest.SQLite(t))
	token, l, err := e.links.Issue(ctx, links.IssueRequest{CustomerID: e.customer, TransferID: e.transfer, TTL: time.Hour, Actor: "staff:1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.ExecContext(ctx, `UPDATE links SET expires_at = $1 WHERE id = $2`, time.Now().UTC().Add(-time.Minute), l.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.links.Open(ctx, token); err != links.ErrExpired {
		t.Fatalf("expired: %v", err)
	}
	for name, r := range map[string]links.IssueRequest{
		"purpose":  {CustomerID: e.customer, TransferID: e.transfer, Purposes: []string{"别的"}, Actor: "staff:1"},
		"ttl":      {CustomerID: e.customer, TransferID: e.transfer, TTL: time.Minute, Actor: "staff:1"},
		"customer": {CustomerID: "nobody", TransferID: e.transfer, Actor: "staff:1"},
		"transfer": {CustomerID: e.customer, TransferID: "none", Actor: "staff:1"},
	} {
		if _, _, err := e.links.Issue(ctx, r); handover.ErrorCode(err) == handover.EINTERNAL || err == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		tok, hash, err := links.NewToken()
		if err != nil || seen[tok] || len(tok) != links.TokenLen || hash != links.HashToken(tok) || len(hash) != 7+64 || strings.Contains(hash, tok) {
			t.Fatalf("token %q, key %q: %v", tok, hash, err)
		}
		if _, err := links.ParseToken(tok); err != nil {
			t.Fatalf("own token %q refused: %v", tok, err)
		}
		seen[tok] = true
	}
}

// TestTokensSortByTime: a later token's stored key sorts after an earlier
// one's, byte by byte (SQLite, PostgreSQL's C collation) and in an English
// collation alike (digits and lowercase letters only in the prefix), so
// the links index takes new keys at its end.
func TestTokensSortByTime(t *testing.T) {
	_, first, _ := links.NewToken()
	time.Sleep(70 * time.Millisecond) // more than a sixteenth of a second
	_, second, _ := links.NewToken()
	if first[:7] >= second[:7] || strings.Trim(first[:7]+second[:7], "0123456789abcdefghijklmnopqrstuv") != "" {
		t.Fatalf("prefixes %q then %q: want increasing, of digits and a-v", first[:7], second[:7])
	}
}

func TestParseToken(t *testing.T) {
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"Ab3dE5gH1jK2mN", true}, {"-_-_-_-_-_-_-_", true}, {"", false}, {"Ab3dE5gH1jK2m", false}, {"Ab3dE5gH1jK2mNo", false},
		{"Ab3dE5gH1jK2m=", false}, {"Ab3dE5gH1jK2m/", false}, {"Ab3dE5gH1jK2m。", false}, {"../../etc/pas", false},
		{"01234uvAb3dE5gH1jK", true}, {"0000000-_-_-_-_-_-", true}, {"01234uwAb3dE5gH1jK", false}, {"01234uVAb3dE5gH1jK", false},
		{"01234u-Ab3dE5gH1jK", false}, {"01234uvAb3dE5gH1j", false}, {"01234uvAb3dE5gH1jKx", false}, {"01234uvAb3dE5gH1j=", false},
	} {
		if _, err := links.ParseToken(tc.in); (err == nil) != tc.ok {
			t.Errorf("ParseToken(%q) = %v, want ok %v", tc.in, err, tc.ok)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	for _, s := range []string{"Ab3dE5gH1jK2mN", "01234uvAb3dE5gH1jK", "", "%00", "Ab3dE5gH1jK2m。", strings.Repeat("a", 1000)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := links.ParseToken(s)
		if err != nil {
			return
		}
		if tok != s || len(tok) != links.TokenLen && len(tok) != 14 || strings.ContainsAny(tok, "/.%=+ ") {
			t.Fatalf("accepted %q", s)
		}
	})
}
