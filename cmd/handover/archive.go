package main

import (
	"context"
	"fmt"
	"os"

	"github.com/handoverhq/handover/archive"
)

// runArchive files a transfer's customers (archive customers) or writes
// its archive index as CSV (archive index).
func runArchive(ctx context.Context, m *Main, args []string) error {
	sub, args, err := subcommand(m, "archive", args, "customers", "index")
	if err != nil {
		return err
	}
	fs := newFlags(m, "archive "+sub, "archive customers|index --transfer T [--out FILE]")
	transfer := fs.String("transfer", "", "the transfer (required)")
	out := fs.String("out", "", "index: write the CSV here instead of standard output")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *transfer == "" {
		fs.Usage()
		return errUsage
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	s := archive.NewStore(m.DB)
	if sub == "index" {
		w := m.Stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("archive index: %w", err)
			}
			defer f.Close()
			w = f
		}
		return s.WriteIndex(ctx, w, *transfer)
	}
	n, err := s.ArchiveCustomers(ctx, *transfer, "cli", func(done int) {
		fmt.Fprintf(m.Stderr, "\rarchived %d customers", done)
	})
	if n > 0 {
		fmt.Fprintln(m.Stderr)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "archived %d customers under transfer %s\n", n, *transfer)
	return nil
}
