package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDrills times the backup and restore drill and the key rotation
// drill of docs/operations.md on the embedded deployment, for
// BENCH_DRILL_ROWS imported customers (default 20,000; `make bench` uses
// 100,000): `backup` of the data and of the keys, `restore` of both into
// an empty data directory (the keys' restore rebuilds every blind index),
// `audit verify` there, and `keys rotate` of the live directory to a new
// master key. It reports each step's seconds and the dumps' sizes.
func BenchmarkDrills(b *testing.B) {
	rows := 20000
	if n, err := strconv.Atoi(os.Getenv("BENCH_DRILL_ROWS")); err == nil && n > 0 {
		rows = n
	}
	csv := filepath.Join(b.TempDir(), "c.csv")
	writeCampaignCSV(b, csv, rows)
	for b.Loop() {
		live, restored := b.TempDir(), b.TempDir()
		env := []string{"HANDOVER_DATA_DIR=" + live}
		cli := func(env []string, want string, args ...string) time.Duration {
			b.Helper()
			t0 := time.Now()
			code, out, stderr := runCLI(b, env, "", args...)
			if code != 0 || !strings.Contains(out, want) {
				b.Fatalf("%v: %d %s %s", args, code, out, stderr)
			}
			return time.Since(t0)
		}
		cli(env, "", "import", csv)
		data, keys := filepath.Join(b.TempDir(), "data.age"), filepath.Join(b.TempDir(), "keys.age")
		b.ReportMetric(cli(env, "", "backup", "--out", data).Seconds(), "backup-s")
		b.ReportMetric(cli(env, "", "backup", "--keys", "--out", keys).Seconds(), "keys-backup-s")
		b.ReportMetric(fileMB(b, data), "backup-MB")
		b.ReportMetric(fileMB(b, keys), "keys-backup-MB")
		master, err := os.ReadFile(filepath.Join(live, "master.key"))
		if err != nil {
			b.Fatal(err)
		}
		oldKey := strings.TrimSpace(string(master))
		renv := []string{"HANDOVER_DATA_DIR=" + restored, "HANDOVER_MASTER_KEY=" + oldKey}
		b.ReportMetric(cli(renv, "sha256 verified", "restore", "--in", data).Seconds(), "restore-s")
		b.ReportMetric(cli(renv, "rebuilt "+strconv.Itoa(rows)+" customers", "restore", "--in", keys).Seconds(), "keys-restore-s")
		b.ReportMetric(cli(renv, "OK", "audit", "verify").Seconds(), "verify-s")
		_, newKey, _ := runCLI(b, nil, "", "keys", "generate")
		rotEnv := append(env, "HANDOVER_MASTER_KEY="+strings.TrimSpace(newKey), "HANDOVER_PREVIOUS_MASTER_KEYS="+oldKey)
		b.ReportMetric(cli(rotEnv, "re-wrapped "+strconv.Itoa(rows+1)+" keys", "keys", "rotate").Seconds(), "rotate-s")
	}
}

func fileMB(b *testing.B, path string) float64 {
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(fi.Size()) / (1 << 20)
}
