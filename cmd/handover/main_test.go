package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/handoverhq/handover/database"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCLI runs the command in-process with env and returns its exit code
// and output.
func runCLI(t testing.TB, env []string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	code := run(t.Context(), args, strings.NewReader(stdin), &out, &errOut, env)
	return code, out.String(), errOut.String()
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServeFirstStartPrintsAdminAndAnswers(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"HANDOVER_DATA_DIR=" + dir, "HANDOVER_HTTP_ADDR=" + addr}
	ctx, cancel := context.WithCancel(t.Context())
	var out, errOut syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, nil, strings.NewReader(""), &out, &errOut, env) }()

	deadline := time.Now().Add(20 * time.Second)
	token := firstAdminToken(t, dir, deadline, &errOut)
	if strings.Contains(out.String(), token) {
		t.Fatal("the first admin's token went to stdout")
	}
	var me struct{ Email, Role string }
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&me)
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if me.Role != "admin" || me.Email != "admin@handover.local" {
		t.Fatalf("me = %+v", me)
	}
	if st, err := os.Stat(filepath.Join(dir, "master.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("master.key: %v %v", st, err)
	}
	if !strings.Contains(errOut.String(), "GENERATED A NEW MASTER KEY") {
		t.Fatal("no loud log line about the generated master key")
	}
	// The audit chain is verified at start, and its verdict exported.
	for !strings.Contains(errOut.String(), "audit chain verified") {
		if time.Now().After(deadline) {
			t.Fatalf("no start-up verification of the audit chain:\n%s", errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, errOut.String())
	}

	// A second start prints no credentials again.
	ctx2, cancel2 := context.WithCancel(t.Context())
	var out2 syncBuffer
	go func() { done <- run(ctx2, []string{"serve"}, strings.NewReader(""), &out2, &errOut, env) }()
	time.Sleep(500 * time.Millisecond)
	cancel2()
	<-done
	if strings.Contains(out2.String(), "API token") {
		t.Fatal("credentials printed on the second start")
	}
}

// firstAdminToken waits for the first start to write the first admin's
// credentials file and returns the API token in it. The credentials never
// reach stdout or the log when stdout is not a terminal (journald keeps
// both), and the file is the owner's alone.
func firstAdminToken(t testing.TB, dir string, deadline time.Time, logs *syncBuffer) string {
	t.Helper()
	path := filepath.Join(dir, FirstAdminFile)
	for {
		b, err := os.ReadFile(path)
		if m := regexp.MustCompile(`API token:\s+(hov_\S+)`).FindSubmatch(b); err == nil && m != nil {
			if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
				t.Fatalf("%s has mode %v, want 0600", FirstAdminFile, st.Mode().Perm())
			}
			pw := regexp.MustCompile(`password:\s+(\S+)`).FindSubmatch(b)
			if pw == nil || strings.Contains(logs.String(), string(pw[1])) || strings.Contains(logs.String(), string(m[1])) {
				t.Fatalf("credentials missing from the file or present in the log:\n%s", logs.String())
			}
			return string(m[1])
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s written; stderr:\n%s", FirstAdminFile, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCLIAdministration(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}

	code, out, errOut := runCLI(t, env, "", "user", "add", "--email", "li@example.com", "--role", "agent")
	if code != 0 || !strings.Contains(out, "password (shown once)") {
		t.Fatalf("user add: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, env, "", "user", "add", "--email", "li@example.com", "--role", "agent"); code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("duplicate user add: %d %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, env, "", "user", "add", "--email", "x@example.com", "--role", "owner"); code != 1 || !strings.Contains(errOut, "role must be") {
		t.Fatalf("bad role: %d %s", code, errOut)
	}
	if code, out, _ = runCLI(t, env, "", "token", "create", "--email", "li@example.com"); code != 0 || !strings.HasPrefix(out, "hov_") {
		t.Fatalf("token create: %d %q", code, out)
	}

	csv := filepath.Join(dir, "customers.csv")
	os.WriteFile(csv, []byte("姓名,手机号,邮箱\n张三,13812345678,zhang@example.com\n李四,bad,\n"), 0o600)
	if code, out, errOut = runCLI(t, env, "", "import", csv); code != 0 || !strings.Contains(out, "1 created") || !strings.Contains(out, "row 3") {
		t.Fatalf("import: %d %s %s", code, out, errOut)
	}

	if code, out, _ = runCLI(t, env, "", "audit", "verify"); code != 0 || !strings.Contains(out, "audit chain OK") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
	db, err := database.OpenSQLite(t.Context(), filepath.Join(dir, "handover.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE audit_log SET detail = 'role=admin' WHERE seq = 1`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if code, out, _ = runCLI(t, env, "", "audit", "verify"); code != 1 || !strings.Contains(out, "BROKEN at entry 1") {
		t.Fatalf("audit verify after edit: %d %s", code, out)
	}
}

func TestKeysRotate(t *testing.T) {
	dir := t.TempDir()
	env := []string{"HANDOVER_DATA_DIR=" + dir}
	csv := filepath.Join(dir, "c.csv")
	os.WriteFile(csv, []byte("name,phone\nAlice,13900001111\n"), 0o600)
	if code, _, errOut := runCLI(t, env, "", "import", csv); code != 0 {
		t.Fatalf("import: %s", errOut)
	}
	oldKey, _ := os.ReadFile(filepath.Join(dir, "master.key"))
	code, newKeyOut, _ := runCLI(t, nil, "", "keys", "generate")
	if code != 0 || len(strings.TrimSpace(newKeyOut)) != 44 {
		t.Fatalf("keys generate: %q", newKeyOut)
	}
	rotEnv := append(env, "HANDOVER_MASTER_KEY="+strings.TrimSpace(newKeyOut), "HANDOVER_PREVIOUS_MASTER_KEYS="+strings.TrimSpace(string(oldKey)))
	code, out, errOut := runCLI(t, rotEnv, "", "keys", "rotate")
	if code != 0 || !strings.Contains(out, "re-wrapped 2 keys") {
		t.Fatalf("rotate: %d %s %s", code, out, errOut)
	}
	onlyNew := append(env, "HANDOVER_MASTER_KEY="+strings.TrimSpace(newKeyOut))
	// Importing the same person again must find them through the blind
	// index under the new key alone: updated, not created.
	if code, out, errOut = runCLI(t, onlyNew, "", "import", csv); code != 0 || !strings.Contains(out, "1 updated") {
		t.Fatalf("import after rotation: %d %s %s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, env, "", "import", csv); code == 0 || !strings.Contains(errOut, "master key") {
		t.Fatalf("old key alone after rotation: %d %s", code, errOut)
	}
}

func TestBadConfigAndUsage(t *testing.T) {
	code, _, errOut := runCLI(t, []string{"HANDOVER_HTTP_ADR=1"}, "", "migrate")
	if code != 1 || !strings.Contains(errOut, "HANDOVER_HTTP_ADR") {
		t.Fatalf("typo in a variable: %d %s", code, errOut)
	}
	if code, _, errOut = runCLI(t, nil, "", "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, nil, "", "--help"); code != 0 || !strings.Contains(out, "import") {
		t.Fatalf("help: %d %s", code, out)
	}
	if code, _, errOut = runCLI(t, nil, "", "import"); code != 2 || !strings.Contains(errOut, "Usage: handover import") {
		t.Fatalf("import without file: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, nil, "", "version"); code != 0 || !strings.HasPrefix(out, "handover ") {
		t.Fatalf("version: %d %s", code, out)
	}
}
