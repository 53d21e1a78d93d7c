package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportCommandRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}
	out := filepath.Join(dir, "pkg.age")
	code, _, stderr := runCLI(t, env, "", "export", "handover", "--transfer", "T1", "--to", "ssh-ed25519 AAAA", "--out", out)
	if code != 1 || !strings.Contains(stderr, "age X25519 public key") {
		t.Errorf("bad key: exit %d, %q", code, stderr)
	}
	code, _, stderr = runCLI(t, env, "", "export", "handover", "--transfer", "T1", "--dry-run")
	if code != 1 || !strings.Contains(stderr, "Transfer not found") {
		t.Errorf("unknown transfer: exit %d, %q", code, stderr)
	}
	if code, _, _ := runCLI(t, env, "", "export", "handover", "--to", "x"); code != 2 {
		t.Errorf("missing flags: exit %d, want 2", code)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s", out)
	}
}

func TestExportCommandNeedsAnImpactAssessment(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}
	code, out, stderr := runCLI(t, env, "", "demo", "--customers", "5")
	if code != 0 {
		t.Fatalf("demo: %s", stderr)
	}
	var transfer string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "transfer:" {
			transfer = f[1]
		}
	}
	pkg := filepath.Join(dir, "pkg.age")
	buyer := "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	code, _, stderr = runCLI(t, env, "", "export", "handover", "--transfer", transfer, "--to", buyer, "--out", pkg)
	if code != 1 || !strings.Contains(stderr, "impact assessment") {
		t.Errorf("export without an assessment: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(pkg); !os.IsNotExist(err) {
		t.Errorf("a refused export left %s", pkg)
	}
}
