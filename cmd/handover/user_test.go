package main

import (
	"strings"
	"testing"
)

// TestUserExpiryAndUnlock: an account that has already expired is refused
// at creation; an admin at the server unlocks sign-in; a token's lifetime
// is bounded.
func TestUserExpiryAndUnlock(t *testing.T) {
	env := []string{"HANDOVER_DATA_DIR=" + t.TempDir()}
	if code, _, errOut := runCLI(t, env, "", "user", "add", "--email", "old@example.com", "--role", "auditor", "--expires", "2020-01-01"); code != 1 || !strings.Contains(errOut, "in the future") {
		t.Fatalf("user add with a past expiry: %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, env, "", "user", "add", "--email", "buyer@example.com", "--role", "auditor", "--expires", "2099-01-01"); code != 0 {
		t.Fatalf("user add with a future expiry: %d %s %s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, env, "", "user", "unlock", "--email", "buyer@example.com"); code != 0 || !strings.Contains(out, "unlocked buyer@example.com") {
		t.Fatalf("user unlock: %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, env, "", "user", "unlock", "--email", "nobody@example.com"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("unlocking nobody: %d %s", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "", "token", "create", "--email", "buyer@example.com", "--days", "400"); code != 1 || !strings.Contains(errOut, "366 days") {
		t.Fatalf("a 400-day token: %d %s", code, errOut)
	}
	if code, out, _ := runCLI(t, env, "", "token", "create", "--email", "buyer@example.com", "--days", "7"); code != 0 || !strings.HasPrefix(out, "hov_") {
		t.Fatalf("a 7-day token: %d %q", code, out)
	}
}
