// Command handover runs Handover: `handover serve` (the default) runs the
// HTTP server, worker and scheduler in one process; `api` and `worker` run
// them apart for scale-out; the other subcommands are administration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Environ()))
}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, m *Main, args []string) error
}

var commands = map[string]command{
	"serve":   {"HTTP server, worker and scheduler in one process (the default)", runServe},
	"api":     {"HTTP server only", runAPI},
	"worker":  {"queue worker only", runWorker},
	"migrate": {"apply database migrations and exit", runMigrate},
	"user":    {"manage staff: user add --email E --role R", runUser},
	"token":   {"API tokens: token create --email E", runToken},
	"import":  {"import customers from a CSV or XLSX file: import FILE", runImport},
	"audit":   {"audit log: audit verify | audit rekey", runAudit},
	"archive": {"file a transfer's records: archive customers|index --transfer T", runArchive},
	"keys":    {"master keys: keys generate | keys rotate", runKeys},
	"demo":    {"fill an empty embedded installation with made-up customers, a transfer and a draft campaign", runDemo},
	"backup":  {"encrypted, checksummed backup: backup --out FILE [--keys]", runBackup},
	"restore": {"restore a backup into an empty data dir: restore --in FILE", runRestore},
	"destroy": {"retention plans: destroy request|approve|run|run-due|report", runDestroy},
	"export":  {"the buyer's encrypted package: export handover --transfer T --to AGE_KEY --out FILE", runExport},
	"version": {"print the version", runVersion},
}

// run is main without the process: testable with its own environment and
// streams. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) int {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		usage(stdout)
		return 0
	}
	name := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(stderr, "handover: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	if name != "serve" && name != "api" && name != "worker" {
		// What a command does is audited as done from the command line,
		// by this operating-system account.
		ctx = audit.WithOrigin(ctx, cliOrigin(environ))
	}
	m := &Main{Stdin: stdin, Stdout: stdout, Stderr: stderr, Environ: environ}
	defer m.Close()
	err := cmd.run(ctx, m, args)
	if audit.OriginFrom(ctx) != "" {
		m.recordCommand(ctx, name, args, err)
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	if code := handover.ErrorCode(err); code != handover.EINTERNAL {
		fmt.Fprintf(stderr, "handover %s: %s\n", name, handover.ErrorMessage(err))
	} else {
		fmt.Fprintf(stderr, "handover %s: %v\n", name, err)
	}
	return 1
}

// errUsage marks a command line that was wrong; the flag set has already
// said why.
var errUsage = errors.New("usage")

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: handover [command] [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'handover COMMAND --help' for a command's flags. Settings come from HANDOVER_* variables (docs/config.md).")
}

// newFlags makes a flag set whose errors and help go to the Main's stderr.
func newFlags(m *Main, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: handover %s\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags, turning flag errors into errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
