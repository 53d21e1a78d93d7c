package main

import (
	"strings"
	"testing"
)

func TestDemoFillsAnEmptyInstallation(t *testing.T) {
	env := []string{"HANDOVER_DATA_DIR=" + t.TempDir()}
	code, out, errOut := runCLI(t, env, "", "demo", "--customers", "30")
	if code != 0 || !strings.Contains(out, "30 imported") || !strings.Contains(out, "/start") || !strings.Contains(out, "/agreement") {
		t.Fatalf("demo: %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, env, "", "demo", "--customers", "0"); code != 2 {
		t.Errorf("--customers 0: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, append(env, "HANDOVER_DATABASE_URL=postgres://x@127.0.0.1/none"), "", "demo"); code == 0 || !strings.Contains(errOut, "embedded") {
		t.Errorf("demo on PostgreSQL: %d %s", code, errOut)
	}
}
