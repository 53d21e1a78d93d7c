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
