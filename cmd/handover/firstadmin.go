package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"

	"golang.org/x/term"

	"github.com/handoverhq/handover/staff"
)

// FirstAdminFile is where the first admin's credentials are written, in
// the data directory, when standard output is not a terminal.
const FirstAdminFile = "first-admin.txt"

// printFirstAdmin creates the first admin on an empty database and hands
// over its credentials once: on a terminal they are printed; otherwise
// (systemd, docker without -t, where stdout lands in journald or a log
// driver that keeps it) they go to a 0600 file in the data directory and
// only its path is logged.
func (m *Main) printFirstAdmin(ctx context.Context) error {
	first, err := m.Staff.Bootstrap(ctx, m.Config.AdminEmail)
	if err != nil || first == nil {
		return err
	}
	// Hashing the password took argon2id's 64 MiB once; give it back to
	// the OS rather than idle at that size.
	debug.FreeOSMemory()
	if isTerminal(m.Stdout) {
		writeFirstAdmin(m.Stdout, first, m.Config.PublicURL)
		return nil
	}
	path := filepath.Join(m.Config.DataDir, FirstAdminFile)
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		// Never overwrite: an older file may hold credentials someone
		// still needs; the new ones are then lost, which is safe.
		return fmt.Errorf("first admin: %s already exists; remove it and reset the database, or add an admin with handover user add", path)
	}
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	writeFirstAdmin(f, first, m.Config.PublicURL)
	if err := f.Close(); err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	m.Log.Warn("first start: an admin account was created; its password and API token are in this file (mode 0600): read it, then delete it",
		"path", path, "email", first.Email)
	return nil
}

func writeFirstAdmin(w io.Writer, first *staff.FirstAdmin, publicURL string) {
	fmt.Fprintf(w, `
  ┌────────────────────────────────────────────────────────────────────┐
  │ First start: an admin account was created. Shown once; keep it safe. │
  └────────────────────────────────────────────────────────────────────┘
    email:      %s
    password:   %s
    API token:  %s

    Try:  curl -H "Authorization: Bearer %s" %s/api/v1/me

`, first.Email, first.Password, first.Token, first.Token, publicURL)
}

// isTerminal reports whether w is a terminal, not a pipe, a file or a
// buffer.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
