package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/handoverhq/handover"
)

// The import file formats.
const (
	FormatCSV  = "csv"
	FormatXLSX = "xlsx"
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1}
	utf8BOM  = []byte{0xef, 0xbb, 0xbf}
)

// fileInfo is what sniffing learned about a file: how to read it.
type fileInfo struct {
	Format   string
	Encoding string // a CSV's text: EncodingUTF8 or EncodingGB18030 (Excel in China)
	Comma    rune
}

// fileError is a file-level failure: the file cannot be imported at all.
func fileError(format string, args ...any) error {
	return handover.Errorf(handover.EINVALID, format, args...)
}

// sniffFile decides the format by content (a zip is XLSX), and for CSV the
// text encoding (enc, else a UTF-8 byte-order mark, else chooseEncoding)
// and the delimiter. It reads the whole of a CSV file once, in small
// chunks.
func sniffFile(path, fileName, enc string) (*fileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open import file: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(64 << 10)
	ext := strings.ToLower(filepath.Ext(fileName))
	switch {
	case len(head) == 0:
		return nil, fileError("the file is empty")
	case bytes.HasPrefix(head, zipMagic):
		return &fileInfo{Format: FormatXLSX}, nil
	case bytes.HasPrefix(head, oleMagic) || ext == ".xls":
		return nil, fileError("old Excel .xls files (and encrypted workbooks) cannot be read: save the sheet as .xlsx or CSV UTF-8")
	case ext == ".xlsx" || ext == ".xlsm":
		return nil, fileError("the file is named %s but is not an Excel workbook; it may be damaged", ext)
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}) || bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return nil, fileError("the file is UTF-16 text: save it as CSV UTF-8 (or CSV) instead")
	}
	info := &fileInfo{Format: FormatCSV, Comma: sniffComma(head), Encoding: enc}
	bom := bytes.HasPrefix(head, utf8BOM)
	if bom && info.Encoding == EncodingGB18030 {
		return nil, fileError("the file starts with a UTF-8 byte-order mark but the encoding gb18030 was given")
	}
	ev, binary, err := readEvidence(br)
	if err != nil {
		return nil, fmt.Errorf("read import file: %w", err)
	}
	if binary {
		return nil, fileError("the file is not text: upload a CSV or .xlsx file")
	}
	switch {
	case enc == EncodingUTF8 || enc == EncodingGB18030: // the caller said
	case bom:
		info.Encoding = EncodingUTF8
	default:
		if info.Encoding, err = chooseEncoding(ev); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// sniffComma picks the delimiter of the first line: comma unless tabs or
// semicolons are more common there.
func sniffComma(head []byte) rune {
	line := head
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	commas, tabs, semis := bytes.Count(line, []byte{','}), bytes.Count(line, []byte{'\t'}), bytes.Count(line, []byte{';'})
	switch {
	case tabs > commas && tabs >= semis:
		return '\t'
	case semis > commas:
		return ';'
	}
	return ','
}

// rowReader yields a file's non-blank rows in order.
type rowReader interface {
	// Next advances to the next row that has a non-blank cell.
	Next() bool
	// Row is the current row's cells; valid until the next call to Next.
	Row() []string
	// Line is the current row's number as a person sees it: 1 is the first
	// line (CSV) or row (XLSX) of the file.
	Line() int64
	// Invalid says why the current row is not valid text in the file's
	// encoding ("" when it is): such a row is rejected, not guessed at.
	Invalid() string
	// Err is the file-level error that stopped Next, if any.
	Err() error
	Close() error
}

// openRows opens the file for reading rows as info says, within lim.
func openRows(path string, info *fileInfo, lim limits) (rowReader, error) {
	if info.Format == FormatXLSX {
		return openXLSX(path, lim)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open import file: %w", err)
	}
	br := bufio.NewReaderSize(f, 256<<10)
	if head, _ := br.Peek(3); bytes.Equal(head, utf8BOM) {
		br.Discard(3)
	}
	// The CSV is split on the raw bytes and each row decoded on its own:
	// the delimiters, quotes and line ends are ASCII and never part of a
	// UTF-8 or GB18030 character, so one bad row stays one bad row.
	cr := csv.NewReader(br)
	cr.Comma = info.Comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &csvRows{f: f, r: cr, dec: newCellDecoder(info.Encoding), maxLine: lim.rows + 1}, nil
}

type csvRows struct {
	f       *os.File
	r       *csv.Reader
	dec     *cellDecoder
	rec     []string
	invalid string
	line    int64
	maxLine int64 // the header and lim.rows rows
	err     error
}

func (c *csvRows) Next() bool {
	for c.err == nil {
		rec, err := c.r.Read()
		if err == io.EOF {
			return false
		}
		if err != nil {
			c.err = csvError(err)
			return false
		}
		line, _ := c.r.FieldPos(0)
		if int64(line) > c.maxLine {
			c.err = tooManyRows(c.maxLine - 1)
			return false
		}
		if blank(rec) {
			continue
		}
		c.rec, c.line = rec, int64(line)
		c.invalid = c.dec.decode(rec)
		return true
	}
	return false
}

// tooManyRows is the error of a file past HANDOVER_IMPORT_MAX_ROWS.
func tooManyRows(max int64) error {
	return fileError("the file has more than %d rows (HANDOVER_IMPORT_MAX_ROWS, blank rows included); split it; nothing was imported", max)
}

// csvError describes a CSV syntax error by line, without the line's text.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := pe.Err.Error()
		switch {
		case errors.Is(pe.Err, csv.ErrBareQuote):
			reason = `a " appears inside a field that is not quoted (quote the field and double the " inside it)`
		case errors.Is(pe.Err, csv.ErrQuote):
			reason = `a quoted field is not closed, or has text after its closing "`
		}
		return fileError("the file is not valid CSV: line %d: %s; nothing was imported", pe.Line, reason)
	}
	return fmt.Errorf("read import file: %w", err)
}

func (c *csvRows) Row() []string   { return c.rec }
func (c *csvRows) Line() int64     { return c.line }
func (c *csvRows) Invalid() string { return c.invalid }
func (c *csvRows) Err() error      { return c.err }
func (c *csvRows) Close() error    { return c.f.Close() }

// blank reports whether every cell is empty or whitespace.
func blank(rec []string) bool {
	for _, cell := range rec {
		if strings.TrimSpace(cell) != "" {
			return false
		}
	}
	return true
}

// xlsxRows streams the first sheet of a workbook. excelize keeps a large
// sheet in a temporary file and reads it row by row.
type xlsxRows struct {
	f       *excelize.File
	rows    *excelize.Rows
	rec     []string
	line    int64
	maxLine int64
	err     error
}

func openXLSX(path string, lim limits) (_ rowReader, err error) {
	if err := checkZip(path, lim); err != nil {
		return nil, err
	}
	// A panic inside the zip or XML readers on a hostile file is a damaged
	// file, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = fileError("the Excel workbook is damaged and cannot be read")
		}
	}()
	f, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: lim.unzipped, UnzipXMLSizeLimit: min(lim.unzipped, maxInMemoryPart), TmpDir: filepath.Dir(path)})
	if err != nil {
		if errors.Is(err, excelize.ErrWorkbookFileFormat) {
			return nil, fileError("the file is not an Excel .xlsx workbook (it may be encrypted or damaged)")
		}
		return nil, fileError("the Excel workbook is damaged and cannot be read")
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		f.Close()
		return nil, fileError("the Excel workbook has no sheets")
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		f.Close()
		return nil, fileError("the first sheet of the Excel workbook cannot be read")
	}
	return &xlsxRows{f: f, rows: rows, maxLine: lim.rows + 1}, nil
}

func (x *xlsxRows) Next() (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			x.err, ok = fileError("the Excel workbook is damaged and cannot be read"), false
		}
	}()
	for x.err == nil && x.rows.Next() {
		x.line++
		if x.line > x.maxLine {
			x.err = tooManyRows(x.maxLine - 1)
			return false
		}
		rec, err := x.rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			x.err = fileError("the Excel sheet cannot be read at row %d", x.line)
			return false
		}
		if blank(rec) {
			continue
		}
		x.rec = rec
		return true
	}
	if x.err == nil && x.rows.Error() != nil {
		x.err = fileError("the Excel sheet is too large or damaged")
	}
	return false
}

func (x *xlsxRows) Row() []string   { return x.rec }
func (x *xlsxRows) Line() int64     { return x.line }
func (x *xlsxRows) Invalid() string { return "" } // XML text is always valid
func (x *xlsxRows) Err() error      { return x.err }

func (x *xlsxRows) Close() error {
	x.rows.Close()
	return x.f.Close()
}

// scanResult is the first, read-only pass over a file.
type scanResult struct {
	Info   *fileInfo
	Header []string
	Cols   columns
	Rows   int64 // data rows, header excluded, blank rows skipped
}

// scanFile reads the whole file structurally before anything is written:
// format, encoding, header and mapping, syntax, and the row count. It
// parses the first lim.rejectStop rows too, and stops when all of them
// are rejected: a wrong file or mapping should not run for minutes.
func scanFile(path, fileName string, opts *Options, lim limits) (*scanResult, error) {
	info, err := sniffFile(path, fileName, opts.Encoding)
	if err != nil {
		return nil, err
	}
	rr, err := openRows(path, info, lim)
	if err != nil {
		return nil, err
	}
	defer rr.Close()
	res := &scanResult{Info: info}
	if !rr.Next() {
		if err := rr.Err(); err != nil {
			return nil, err
		}
		return nil, fileError("the file has no rows")
	}
	res.Header = append([]string(nil), rr.Row()...)
	if res.Cols, err = resolveColumns(res.Header, opts.Mapping); err != nil {
		return nil, err
	}
	var firstReject *RowError
	accepted := false
	for rr.Next() {
		res.Rows++
		if accepted || res.Rows > lim.rejectStop {
			continue
		}
		rec := checkRow(res.Cols, rr.Row(), rr.Line(), rr.Invalid(), nil)
		if len(rec.errs) == 0 {
			accepted = true
			continue
		}
		if firstReject == nil {
			firstReject = &rec.errs[0]
		}
		if res.Rows == lim.rejectStop {
			return nil, fileError("the first %d rows were all rejected (the first, row %d, %s: %s); check the columns, the mapping and the encoding; nothing was imported",
				lim.rejectStop, firstReject.Row, firstReject.Field, firstReject.Reason)
		}
	}
	if err := rr.Err(); err != nil {
		return nil, err
	}
	if res.Rows == 0 {
		return nil, fileError("the file has a header row but no data rows")
	}
	return res, nil
}
