package main

import (
	"context"
	"fmt"
)

// runUserUnlock forgets a member's failed sign-ins, for an admin at the
// server when nobody can sign in to the dashboard.
func runUserUnlock(ctx context.Context, m *Main, args []string) error {
	fs := newFlags(m, "user unlock", "user unlock --email E")
	email := fs.String("email", "", "the staff member to unlock (required)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *email == "" {
		fs.Usage()
		return errUsage
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	mem, err := m.Staff.FindMemberByEmail(ctx, *email)
	if err != nil {
		return err
	}
	if err := m.Staff.UnlockMember(ctx, mem.ID, "cli"); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "unlocked %s: failed sign-ins forgotten\n", mem.Email)
	return nil
}
