package lifecycle_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/channels"
	"github.com/handoverhq/handover/channels/devbox"
	"github.com/handoverhq/handover/channels/inboxtest"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
	"github.com/handoverhq/handover/lifecycle"
	"github.com/handoverhq/handover/pii"
	"github.com/handoverhq/handover/pii/masterkey"
	"github.com/handoverhq/handover/pii/piitest"
	"github.com/handoverhq/handover/queue/queuetest"
	"github.com/handoverhq/handover/staff"
)

func member(t *testing.T, db *database.DB, email string, role staff.Role) *staff.Member {
	t.Helper()
	m := &staff.Member{Email: email, Role: role}
	if err := staff.NewStore(db).CreateMember(context.Background(), m, "", "test"); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDestructionNeedsTwoPeopleAndIsReported(t *testing.T) {
	master, _ := masterkey.Parse(masterkey.Generate())
	run := func(t *testing.T, db *database.DB, vault *pii.Vault, dataDir string) {
		ctx := context.Background()
		w := seedWith(t, db, vault)
		admin, admin2 := member(t, db, "a@example.com", staff.Admin), member(t, db, "a2@example.com", staff.Admin)
		auditor := member(t, db, "au@example.com", staff.Auditor)
		d := lifecycle.NewDestroyer(db, w.customers, dataDir)

		if _, err := d.RequestDestruction(ctx, w.transfer.ID, 0, auditor); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("auditor request: %v", err)
		}
		if _, err := d.RequestDestruction(ctx, "01J0000000000000000000000", 0, admin); handover.ErrorCode(err) != handover.ENOTFOUND {
			t.Errorf("unknown transfer: %v", err)
		}
		p, err := d.RequestDestruction(ctx, w.transfer.ID, 0, admin)
		if err != nil {
			t.Fatal(err)
		}
		if p.DueAt.Format("2006-01-02") != "2026-03-31" || p.Status != lifecycle.PlanRequested {
			t.Errorf("plan = %+v", p)
		}
		if _, err := d.RequestDestruction(ctx, w.transfer.ID, 0, admin); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("second open plan: %v", err)
		}
		if _, err := d.RunDestruction(ctx, p.ID, "system"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("run without approval: %v", err)
		}
		if _, err := d.ApproveDestruction(ctx, p.ID, admin2); handover.ErrorCode(err) != handover.EFORBIDDEN {
			t.Errorf("an admin approved: %v", err)
		}
		if n := countRows(t, db, "customers"); n != len(phones) {
			t.Fatalf("refused steps changed customers: %d left", n)
		}
		if p, err = d.ApproveDestruction(ctx, p.ID, auditor); err != nil || p.ApprovedBy != auditor.Actor() {
			t.Fatalf("approve: %+v %v", p, err)
		}
		consentBefore := countRows(t, db, "consent_events")

		r, err := d.RunDestruction(ctx, p.ID, "system")
		if err != nil {
			t.Fatal(err)
		}
		if !r.Verified || r.Plan.DestroyedCount != int64(len(phones)) || len(r.Sample) == 0 || r.ConsentEventsKept != consentBefore {
			t.Errorf("report = %+v", r)
		}
		if countRows(t, db, "customers") != 0 || countRows(t, db, "customer_keys") != 0 || countRows(t, db, "consent_events") != consentBefore {
			t.Error("customers or keys left, or consent evidence lost")
		}
		html, err := d.Report(ctx, p.ID)
		if err != nil || !bytes.Contains(html, []byte("Verified")) || !bytes.Contains(html, []byte(auditor.Actor())) || bytes.Contains(html, []byte("客户0")) {
			t.Errorf("report html: %v\n%s", err, html)
		}
		if c := countAudit(t, db, "destruction.complete"); c != 1 {
			t.Errorf("%d destruction.complete entries", c)
		}
		if chain, err := audit.Verify(ctx, db); err != nil || !chain.OK() {
			t.Errorf("audit chain after destruction: %+v %v", chain, err)
		}
		if _, err := d.RunDestruction(ctx, p.ID, "system"); handover.ErrorCode(err) != handover.ECONFLICT {
			t.Errorf("second run: %v", err)
		}
		// Nothing of the destroyed customers is readable in the files.
		if dataDir != "" {
			files, _ := filepath.Glob(filepath.Join(dataDir, "*.db*"))
			for _, f := range files {
				b, _ := os.ReadFile(f)
				for _, phone := range phones {
					if bytes.Contains(b, []byte(phone)) {
						t.Errorf("%s holds a destroyed phone number", filepath.Base(f))
					}
				}
			}
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		dir := t.TempDir()
		db, vault := openDataDir(t, dir, master)
		run(t, db, vault, dir)
	})
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Run("postgres", func(t *testing.T) {
			db := dbtest.Postgres(t)
			run(t, db, piitest.Vault(t, db), "")
		})
	}
}

// TestDestructionReachesEarlierBackups restores a data backup taken before
// the destruction beside the key store as it is after it: the customers'
// rows come back, their personal data does not.
func TestDestructionReachesEarlierBackups(t *testing.T) {
	ctx := context.Background()
	master, _ := masterkey.Parse(masterkey.Generate())
	live := t.TempDir()
	db, vault := openDataDir(t, live, master)
	w := seedWith(t, db, vault)
	// A portal message and a devbox record of a customer, sealed under
	// their key.
	c0 := w.ids[phones[0]]
	in := inboxtest.New(t, db, vault, queuetest.Open(t))
	if _, err := in.Record(ctx, []channels.InboundEvent{{Channel: channels.Portal, Kind: channels.EventMessage, CustomerID: c0,
		DedupKey: "p0", Text: "请把我的地址改成杭州西湖"}}); err != nil {
		t.Fatal(err)
	}
	if r := devbox.New(db, vault.Keys, nil).Send(ctx, []channels.Message{{DeliveryID: "d0", CustomerID: c0,
		To: channels.Address{Phone: "+86" + phones[0]}, Text: "您好"}}); r[0].Err != nil {
		t.Fatal(r[0].Err)
	}
	var eventID string
	if err := db.QueryRowContext(ctx, `SELECT id FROM inbound_events WHERE customer_id = $1`, c0).Scan(&eventID); err != nil {
		t.Fatal(err)
	}
	earlier := backup(t, db, live, lifecycle.BackupData, master)
	d := lifecycle.NewDestroyer(db, w.customers, live)
	p, err := d.RequestDestruction(ctx, w.transfer.ID, 1, member(t, db, "a@example.com", staff.Admin))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApproveDestruction(ctx, p.ID, member(t, db, "au@example.com", staff.Auditor)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RunDestruction(ctx, p.ID, "system"); err != nil {
		t.Fatal(err)
	}
	keysNow := backup(t, db, live, lifecycle.BackupKeys, master)
	restored := t.TempDir()
	for _, b := range [][]byte{earlier, keysNow} {
		if _, err := lifecycle.RestoreBackup(bytes.NewReader(b), lifecycle.MasterIdentities(master), restored); err != nil {
			t.Fatal(err)
		}
	}
	db2, vault2 := openDataDir(t, restored, master)
	var ids []string
	for _, id := range w.ids {
		ids = append(ids, id)
	}
	got, err := customers.NewStore(db2, vault2).FindCustomersByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(phones) {
		t.Fatalf("restored %d customer rows", len(got))
	}
	for _, c := range got {
		if c.Phone != "" || strings.Contains(c.Name, "客户") {
			t.Errorf("destroyed customer %s readable from an earlier backup", c.ID)
		}
	}
	in2 := inboxtest.New(t, db2, vault2, queuetest.Open(t))
	if _, _, err := in2.FindEventByID(ctx, eventID); handover.ErrorCode(err) != handover.ENOTFOUND {
		t.Errorf("a destroyed customer's message read from an earlier backup: %v", err)
	}
	if msgs, err := devbox.New(db2, vault2.Keys, nil).Find(ctx, "", 10); err != nil || len(msgs) != 0 {
		t.Errorf("devbox records read from an earlier backup: %d, %v", len(msgs), err)
	}
}

func TestDestructionNotDue(t *testing.T) {
	db := dbtest.SQLite(t)
	ctx := context.Background()
	w := seed(t, db)
	d := lifecycle.NewDestroyer(db, w.customers, "")
	p, err := d.RequestDestruction(ctx, w.transfer.ID, 3650, member(t, db, "a@example.com", staff.Admin))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApproveDestruction(ctx, p.ID, member(t, db, "au@example.com", staff.Auditor)); err != nil {
		t.Fatal(err)
	}
	if _, err := d.RunDestruction(ctx, p.ID, "system"); handover.ErrorCode(err) != handover.ECONFLICT || !strings.Contains(handover.ErrorMessage(err), "not due") {
		t.Errorf("run before due: %v", err)
	}
	if due, _ := d.DuePlans(ctx); len(due) != 0 {
		t.Errorf("due plans %v", due)
	}
	if countRows(t, db, "customers") != len(phones) {
		t.Error("customers destroyed before due")
	}
}

func countRows(t testing.TB, db *database.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
