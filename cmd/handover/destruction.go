package main

import (
	"context"
	"fmt"
	"os"

	"github.com/handoverhq/handover/lifecycle"
)

// runDestroy drives retention plans from the command line. request and
// approve name the staff member acting (--as), who must prove it with
// their own credentials (signIn) and whose role is checked as on the API:
// one shell cannot be both people of the two-person rule.
func runDestroy(ctx context.Context, m *Main, args []string) error {
	sub, args, err := subcommand(m, "destroy", args, "request", "approve", "run", "run-due", "report")
	if err != nil {
		return err
	}
	fs := newFlags(m, "destroy "+sub, map[string]string{
		"request": "destroy request --transfer T --as ADMIN_EMAIL [--days N]  (credentials: password on stdin, or HANDOVER_CLI_TOKEN)",
		"approve": "destroy approve --plan P --as AUDITOR_EMAIL  (credentials: password on stdin, or HANDOVER_CLI_TOKEN)",
		"run":     "destroy run --plan P",
		"run-due": "destroy run-due",
		"report":  "destroy report --plan P --out FILE.html",
	}[sub])
	transfer := fs.String("transfer", "", "the transfer id")
	plan := fs.String("plan", "", "the destruction plan id")
	as := fs.String("as", "", "email of the staff member acting, who signs in: password (then authenticator code) on standard input, or their API token in HANDOVER_CLI_TOKEN")
	days := fs.Int("days", 0, "days after the effective date (default: the transfer's retention_days)")
	out := fs.String("out", "", "where to write the HTML report")
	if err := parse(fs, args); err != nil {
		return err
	}
	need := map[string][]string{"request": {*transfer, *as}, "approve": {*plan, *as}, "run": {*plan}, "report": {*plan, *out}}[sub]
	for _, v := range need {
		if v == "" {
			fs.Usage()
			return errUsage
		}
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	d := m.Destroyer
	switch sub {
	case "request", "approve":
		who, err := m.signIn(ctx, *as)
		if err != nil {
			return err
		}
		var p *lifecycle.Plan
		if sub == "request" {
			p, err = d.RequestDestruction(ctx, *transfer, *days, who)
		} else {
			p, err = d.ApproveDestruction(ctx, *plan, who)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(m.Stdout, "plan %s %s, due %s\n", p.ID, p.Status, p.DueAt.Format("2006-01-02"))
		return nil
	case "run":
		return m.runPlan(ctx, d, *plan)
	case "run-due":
		n, err := d.RunDue(ctx)
		fmt.Fprintf(m.Stdout, "%d due plans run\n", n)
		return err
	}
	html, err := d.Report(ctx, *plan)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, html, 0o600)
}

func (m *Main) runPlan(ctx context.Context, d *lifecycle.Destroyer, id string) error {
	r, err := d.RunDestruction(ctx, id, "cli")
	if r != nil {
		fmt.Fprintf(m.Stdout, "plan %s: %d customers destroyed, verified %t (handover destroy report --plan %s --out report.html)\n",
			id, r.Plan.DestroyedCount, r.Verified, id)
	}
	return err
}
