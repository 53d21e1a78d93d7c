package audit_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

var testKey = bytes.Repeat([]byte{7}, 32)

// forgeChain is the attack on an unkeyed chain: edit entry seq and
// recompute every link after it with plain SHA-256, then fix the head.
func forgeChain(t *testing.T, db *database.DB, seq int64, actor string) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `UPDATE audit_log SET actor = $1 WHERE seq = $2`, actor, seq); err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, at, actor, action, object_type, object_id, detail, origin FROM audit_log ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		seq                                       int64
		at                                        time.Time
		actor, action, otype, oid, detail, origin string
	}
	var all []row
	for rows.Next() {
		var r row
		rows.Scan(&r.seq, &r.at, &r.actor, &r.action, &r.otype, &r.oid, &r.detail, &r.origin)
		all = append(all, r)
	}
	rows.Close()
	prev := ""
	for _, r := range all {
		if r.seq < seq {
			db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = $1`, r.seq).Scan(&prev)
			continue
		}
		h := sha256.New()
		fields := []string{strconv.FormatInt(r.seq, 10), r.at.UTC().Format(time.RFC3339Nano), r.actor, r.action, r.otype, r.oid, r.detail, prev}
		if r.origin != "" {
			fields = append(fields, "origin", r.origin)
		}
		for _, f := range fields {
			h.Write([]byte(strconv.Itoa(len(f)) + ":" + f))
		}
		sum := hex.EncodeToString(h.Sum(nil))
		db.ExecContext(ctx, `UPDATE audit_log SET prev_hash = $1, hash = $2 WHERE seq = $3`, prev, sum, r.seq)
		prev = sum
	}
	db.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, prev)
}

// TestKeyedChainResistsRewriting: an edited entry with the whole chain
// re-hashed after it passes on an unkeyed chain (the attack) and fails on
// a keyed one, whose MACs need the key.
func TestKeyedChainResistsRewriting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		if err := audit.UseKey(ctx, db, testKey); err != nil {
			t.Fatal(err)
		}
		record(t, db, 5)
		r, err := audit.Verify(ctx, db)
		if err != nil || !r.OK() || !r.Keyed || r.Checked != 5 {
			t.Fatalf("verify = %+v, %v; want 5 keyed and ok", r, err)
		}
		forgeChain(t, db, 2, "staff:innocent")
		r, err = audit.Verify(ctx, db)
		if err != nil || r.BrokenSeq != 2 {
			t.Fatalf("after a rewrite and re-hash: %+v, %v; want broken at 2", r, err)
		}
		// A process without the key can neither verify nor append.
		db.AuditKey = nil
		if r, _ := audit.Verify(ctx, db); r.OK() {
			t.Fatalf("verified without the key: %+v", r)
		}
		err = db.InTx(ctx, func(tx *database.Tx) error {
			return audit.Record(ctx, tx, audit.Entry{Actor: "system", Action: "x"})
		})
		if err == nil || !strings.Contains(err.Error(), "no audit key") {
			t.Fatalf("append without the key: %v", err)
		}
	})
}

// TestRekeyMovesAnUnkeyedChain: a chain from before keyed chains is not
// keyed behind anyone's back; Rekey verifies it, refuses a broken one,
// and re-links a whole one under the key, after which a rewrite shows.
func TestRekeyMovesAnUnkeyedChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		record(t, db, 4) // no key yet: plain SHA-256
		if err := audit.UseKey(ctx, db, testKey); err != nil {
			t.Fatal(err)
		}
		r, err := audit.Verify(ctx, db)
		if err != nil || !r.OK() || r.Keyed {
			t.Fatalf("legacy chain: %+v, %v; want ok and unkeyed", r, err)
		}
		// The attack works on it, and Rekey refuses to bless the result
		// only when the chain does not verify: an edit without re-hash.
		db.ExecContext(ctx, `UPDATE audit_log SET detail = 'x' WHERE seq = 3`)
		if _, err := audit.Rekey(ctx, db); err == nil || !strings.Contains(err.Error(), "broken at entry 3") {
			t.Fatalf("rekey of a broken chain: %v", err)
		}
		db.ExecContext(ctx, `UPDATE audit_log SET detail = '' WHERE seq = 3`)
		if _, err := audit.Rekey(ctx, db); err != nil {
			t.Fatal(err)
		}
		record(t, db, 2)
		r, err = audit.Verify(ctx, db)
		if err != nil || !r.OK() || !r.Keyed || r.Checked != 7 {
			t.Fatalf("after rekey: %+v, %v; want 4 + rekey + 2 keyed and ok", r, err)
		}
		if _, err := audit.Rekey(ctx, db); err == nil {
			t.Fatal("rekeyed twice")
		}
		forgeChain(t, db, 1, "staff:innocent")
		if r, _ := audit.Verify(ctx, db); r.BrokenSeq != 1 {
			t.Fatalf("rewrite after rekey: %+v, want broken at 1", r)
		}
	})
}

// TestMonitorExportsTheVerdict: the gauge is 1 on a whole keyed chain,
// 0 with a failure counted and an error logged once it is broken.
func TestMonitorExportsTheVerdict(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		audit.UseKey(ctx, db, testKey)
		record(t, db, 3)
		var logs bytes.Buffer
		m := audit.NewMonitor(db, slog.New(slog.NewTextHandler(&logs, nil)))
		reg := prometheus.NewRegistry()
		reg.MustRegister(m.Collectors()...)
		gauge := func() float64 {
			mfs, _ := reg.Gather()
			for _, mf := range mfs {
				if mf.GetName() == "handover_audit_chain_ok" {
					return mf.GetMetric()[0].GetGauge().GetValue()
				}
			}
			return -1
		}
		m.Check(ctx)
		if v := gauge(); v != 1 {
			t.Fatalf("gauge = %v on a whole chain", v)
		}
		// Cutting off the tail and pointing the head at the entry before
		// leaves a whole chain, but shorter than this process saw.
		var seq2 string
		db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE seq = 2`).Scan(&seq2)
		db.ExecContext(ctx, `DELETE FROM audit_log WHERE seq = 3`)
		db.ExecContext(ctx, `UPDATE audit_head SET seq = 2, hash = $1 WHERE id = 1`, seq2)
		if r := m.Check(ctx); !r.OK() || gauge() != 0 || !strings.Contains(logs.String(), "TRUNCATED") {
			t.Fatalf("truncation: %+v gauge %v\n%s", r, gauge(), logs.String())
		}
		db.ExecContext(ctx, `UPDATE audit_log SET object_id = 'other' WHERE seq = 2`)
		m.Check(ctx)
		if v := gauge(); v != 0 {
			t.Fatalf("gauge = %v on a broken chain", v)
		}
		if !strings.Contains(logs.String(), "AUDIT CHAIN BROKEN") || !strings.Contains(logs.String(), "seq=2") {
			t.Fatalf("log:\n%s", logs.String())
		}
	})
}
