package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/handoverhq/handover/lifecycle"
)

func runExport(ctx context.Context, m *Main, args []string) error {
	_, args, err := subcommand(m, "export", args, "handover")
	if err != nil {
		return err
	}
	fs := newFlags(m, "export handover", "export handover --transfer T --to AGE_PUBLIC_KEY --out FILE [--rule all|any] [--purposes P1,P2] [--dry-run]")
	transfer := fs.String("transfer", "", "the transfer id (required)")
	to := fs.String("to", "", "the buyer's age X25519 public key, age1… (required unless --dry-run)")
	out := fs.String("out", "", "the package file to write (required unless --dry-run)")
	ruleMode := fs.String("rule", lifecycle.RuleAll, "all: every listed purpose granted; any: at least one")
	purposes := fs.String("purposes", "", "comma-separated purposes the rule looks at (default: all the transfer's)")
	dryRun := fs.Bool("dry-run", false, "print the counts per rule and write nothing")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *transfer == "" || (!*dryRun && (*to == "" || *out == "")) {
		fs.Usage()
		return errUsage
	}
	rule := lifecycle.Rule{Mode: *ruleMode}
	if *purposes != "" {
		rule.Purposes = strings.Split(*purposes, ",")
	}
	if !*dryRun {
		// Refuse a bad key before opening anything.
		if _, err := lifecycle.ParseRecipient(*to); err != nil {
			return err
		}
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	ex := m.Exporter
	if *dryRun {
		c, err := ex.DryRun(ctx, *transfer, rule)
		if err != nil {
			return err
		}
		granted, _ := json.Marshal(c.Granted)
		fmt.Fprintf(m.Stdout, "transfer %s: %d customers (not erased)\n  granted per purpose: %s\n  rule all: %d\n  rule any: %d\n  selected (%s over %s): %d\n",
			c.TransferID, c.Customers, granted, c.All, c.Any, c.Rule, strings.Join(c.Purposes, ","), c.Selected)
		return nil
	}
	return writeAtomically(*out, func(f *os.File) error {
		man, err := ex.Export(ctx, lifecycle.ExportRequest{TransferID: *transfer, Recipient: *to, Rule: rule, Actor: "cli"}, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "export %s: %d customers, %d consent events, fields %s, %d files → %s\n",
			man.ExportID, man.Customers, man.ConsentEvents, strings.Join(man.Fields, ","), len(man.Files), *out)
		return nil
	})
}

// writeAtomically writes path through a temporary file in its directory,
// renamed into place only when write succeeds; nothing is left otherwise.
func writeAtomically(path string, write func(f *os.File) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
