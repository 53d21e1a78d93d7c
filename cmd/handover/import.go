package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/handoverhq/handover/customers/importer"
)

func runImport(ctx context.Context, m *Main, args []string) error {
	fs := newFlags(m, "import", "import [--mapping JSON] [--encoding auto|utf-8|gb18030] FILE.csv|FILE.xlsx")
	mappingFlag := fs.String("mapping", "", `header-to-field mapping as JSON, e.g. {"客户名称":"name","手机号码":"phone"}`)
	encodingFlag := fs.String("encoding", "auto", "a CSV file's text encoding: auto (from the file), utf-8 or gb18030")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	mapping, err := importer.ParseMapping(*mappingFlag)
	if err != nil {
		return err
	}
	encoding, err := importer.ParseEncoding(*encodingFlag)
	if err != nil {
		return err
	}
	if err := m.openStores(ctx); err != nil {
		return err
	}
	bar := newProgress(m)
	im, err := m.Importer.Run(ctx, fs.Arg(0), &importer.Options{Mapping: mapping, Encoding: encoding}, "cli", bar.update)
	bar.done()
	if err != nil {
		return err
	}
	// The rejected rows live in the database; load them with the counts.
	if im, err = m.Importer.FindImportByID(ctx, im.ID); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "import %s %s: %d rows, %d created, %d updated, %d rejected\n",
		im.ID, im.Status, im.TotalRows, im.Created, im.Updated, im.Rejected)
	for i, e := range im.Errors {
		if i == 20 {
			fmt.Fprintf(m.Stdout, "  … %d more rejected rows (GET /api/v1/imports/%s lists them)\n", im.Rejected-20, im.ID)
			break
		}
		fmt.Fprintf(m.Stdout, "  row %d, %s: %s\n", e.Row, e.Field, e.Reason)
	}
	if im.Status == importer.ImportFailed {
		return fmt.Errorf("import failed: %s", im.Failure)
	}
	return nil
}

// progress draws a one-line progress bar on a terminal and nothing
// elsewhere (logs and pipes stay clean).
type progress struct {
	m     *Main
	tty   bool
	start time.Time
	drawn bool
}

func newProgress(m *Main) *progress {
	f, ok := m.Stderr.(*os.File)
	return &progress{m: m, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now()}
}

func (p *progress) update(done, total int64) {
	if !p.tty || total <= 0 {
		return
	}
	const width = 30
	filled := int(width * done / total)
	rate := float64(done) / max(time.Since(p.start).Seconds(), 0.001)
	fmt.Fprintf(p.m.Stderr, "\r[%s%s] %d/%d rows  %.0f rows/s", strings.Repeat("█", filled), strings.Repeat("·", width-filled), done, total, rate)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.m.Stderr)
	}
}
