package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBackupAndRestoreCommands(t *testing.T) {
	live, restored := t.TempDir(), t.TempDir()
	csv := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(csv, []byte("姓名,手机\n张三,13812345678\n"), 0o600)
	env := []string{"HANDOVER_DATA_DIR=" + live}
	if code, _, stderr := runCLI(t, env, "", "import", csv); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	data, keys := filepath.Join(t.TempDir(), "data.age"), filepath.Join(t.TempDir(), "keys.age")
	for _, args := range [][]string{{"backup", "--out", data}, {"backup", "--keys", "--out", keys}} {
		if code, _, stderr := runCLI(t, env, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	// Restore refuses without the master key rather than generating one.
	renv := []string{"HANDOVER_DATA_DIR=" + restored}
	if code, _, stderr := runCLI(t, renv, "", "restore", "--in", data); code != 1 || !strings.Contains(stderr, "HANDOVER_MASTER_KEY") {
		t.Errorf("restore without key: %d %s", code, stderr)
	}
	master, _ := os.ReadFile(filepath.Join(live, "master.key"))
	renv = append(renv, "HANDOVER_MASTER_KEY="+strings.TrimSpace(string(master)))
	for _, in := range []string{data, keys} {
		if code, out, stderr := runCLI(t, renv, "", "restore", "--in", in); code != 0 || !strings.Contains(out, "sha256 verified") {
			t.Fatalf("restore %s: %d %s %s", in, code, out, stderr)
		}
	}
	if code, out, stderr := runCLI(t, renv, "", "audit", "verify"); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("audit verify on the restored dir: %s %s", out, stderr)
	}
	if code, _, stderr := runCLI(t, renv, "", "restore", "--in", data); code != 1 || !strings.Contains(stderr, "empty data directory") {
		t.Errorf("restore over a database: %d %s", code, stderr)
	}
}

func TestDestroyCommandsNeedTwoPeople(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}
	for _, args := range [][]string{{"user", "add", "--email", "a@example.com", "--role", "admin"}, {"user", "add", "--email", "au@example.com", "--role", "auditor"}} {
		if code, _, stderr := runCLI(t, env, "", args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	if code, _, stderr := runCLI(t, env, "", "destroy", "request", "--transfer", "T0", "--as", "a@example.com"); code != 1 || !strings.Contains(stderr, "Transfer not found") {
		t.Errorf("unknown transfer: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "", "destroy", "approve", "--plan", "P0", "--as", "a@example.com"); code != 1 || !strings.Contains(stderr, "auditor") {
		t.Errorf("admin approval: %d %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, env, "", "destroy", "run", "--plan", "P0"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown plan: %d %s", code, stderr)
	}
	if code, out, stderr := runCLI(t, env, "", "destroy", "run-due"); code != 0 || !strings.Contains(out, "0 due plans") {
		t.Errorf("run-due: %d %s %s", code, out, stderr)
	}
}
