package main

import (
	"os"
	"path/filepath"
	"regexp"
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
		if code, out, stderr := runCLI(t, renv, "", "restore", "--in", in); code != 0 || !strings.Contains(out, "sha256 verified") || (in == keys) != strings.Contains(out, "rebuilt 1 customers") {
			t.Fatalf("restore %s: %d %s %s", in, code, out, stderr)
		}
	}
	// The restored data finds the customer by phone again: the blind
	// indexes the backup did not carry were rebuilt.
	if code, out, stderr := runCLI(t, renv, "", "import", csv); code != 0 || !strings.Contains(out, "1 updated") {
		t.Errorf("import after restore: %s %s", out, stderr)
	}
	if code, out, stderr := runCLI(t, renv, "", "audit", "verify"); code != 0 || !strings.Contains(out, "OK") {
		t.Errorf("audit verify on the restored dir: %s %s", out, stderr)
	}
	if code, _, stderr := runCLI(t, renv, "", "restore", "--in", data); code != 1 || !strings.Contains(stderr, "empty data directory") {
		t.Errorf("restore over a database: %d %s", code, stderr)
	}
}

// TestDestroyCommandsNeedTwoPeople: from one shell, naming the admin and
// then the auditor (--as) is not enough; each step needs that person's
// own password or API token, and the audit log records where each came
// from.
func TestDestroyCommandsNeedTwoPeople(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}
	code, out, stderr := runCLI(t, env, "", "demo", "--customers", "3")
	if code != 0 {
		t.Fatalf("demo: %s", stderr)
	}
	transfer := regexp.MustCompile(`transfer:\s+(\S+)`).FindStringSubmatch(out)[1]
	for _, args := range [][]string{{"user", "add", "--email", "a@example.com", "--role", "admin", "--password-stdin"},
		{"user", "add", "--email", "au@example.com", "--role", "auditor", "--password-stdin"}} {
		if code, _, stderr := runCLI(t, env, "pw-of-"+args[3]+"\n", args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	request := []string{"destroy", "request", "--transfer", transfer, "--as", "a@example.com"}
	for _, stdin := range []string{"", "wrong-password\n"} {
		if code, _, stderr := runCLI(t, env, stdin, request...); code != 1 || !strings.Contains(stderr, "password") {
			t.Fatalf("request with stdin %q: %d %s", stdin, code, stderr)
		}
	}
	code, out, stderr = runCLI(t, env, "pw-of-a@example.com\n", request...)
	if code != 0 {
		t.Fatalf("request with the admin's password: %s", stderr)
	}
	plan := regexp.MustCompile(`plan (\S+) requested`).FindStringSubmatch(out)[1]

	approve := []string{"destroy", "approve", "--plan", plan, "--as", "au@example.com"}
	if code, _, stderr := runCLI(t, env, "pw-of-a@example.com\n", approve...); code != 1 {
		t.Fatalf("approval with the admin's password: %d %s", code, stderr)
	}
	_, adminToken, _ := runCLI(t, env, "", "token", "create", "--email", "a@example.com")
	if code, _, stderr := runCLI(t, append(env, "HANDOVER_CLI_TOKEN="+strings.TrimSpace(adminToken)), "", approve...); code != 1 || !strings.Contains(stderr, "another staff member") {
		t.Fatalf("approval with the admin's token: %d %s", code, stderr)
	}
	_, auditorToken, _ := runCLI(t, env, "", "token", "create", "--email", "au@example.com")
	if code, out, stderr := runCLI(t, append(env, "HANDOVER_CLI_TOKEN="+strings.TrimSpace(auditorToken)), "", approve...); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approval with the auditor's token: %d %s %s", code, out, stderr)
	}

	db := openData(t, dir)
	var origin string
	db.QueryRow(`SELECT origin FROM audit_log WHERE action = 'destruction.approve'`).Scan(&origin)
	if !strings.HasPrefix(origin, "cli os_user=") || len(origin) == len("cli os_user=") {
		t.Fatalf("approval's origin %q, want the command line and the OS user", origin)
	}
	var unmarked int
	db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE origin = ''`).Scan(&unmarked)
	if unmarked != 0 {
		t.Fatalf("%d entries made from the command line without their origin", unmarked)
	}
	// Every command run is audited, refused ones too, with its flags'
	// names but never their values.
	var commands, refused int
	db.QueryRow(`SELECT COUNT(*), SUM(CASE WHEN detail LIKE '%"ok":false%' THEN 1 ELSE 0 END) FROM audit_log
		WHERE action = 'cli.command' AND object_id = 'destroy' AND detail LIKE '%"approve"%'`).Scan(&commands, &refused)
	if commands != 3 || refused != 2 {
		t.Fatalf("%d destroy approve commands audited, %d refused; want 3 and 2", commands, refused)
	}
	var leaked int
	db.QueryRow(`SELECT COUNT(*) FROM audit_log WHERE action = 'cli.command' AND (detail LIKE '%example.com%' OR detail LIKE '%hov_%')`).Scan(&leaked)
	if leaked != 0 {
		t.Fatal("a command's audit entry holds a flag's value")
	}
	if code, _, stderr := runCLI(t, env, "", "destroy", "run", "--plan", "P0"); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("unknown plan: %d %s", code, stderr)
	}
}
