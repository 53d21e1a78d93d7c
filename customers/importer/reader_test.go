package importer

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"github.com/handoverhq/handover"
)

// FuzzReadFile feeds arbitrary bytes, as CSV and as XLSX, through the
// first pass and the row reader: they must not panic, must fail with a
// clean application error or yield rows, and the second pass must see
// exactly the rows the first pass counted.
func FuzzReadFile(f *testing.F) {
	f.Add([]byte("姓名,手机\r\n张三,13812345678\r\n"), "a.csv")
	f.Add([]byte("\xef\xbb\xbfname,email\n\"a\"\"b\",a@example.com\n"), "a.csv")
	f.Add([]byte("name,phone\na\"b,1\n"), "a.csv")
	f.Add([]byte("\xd0\xd5\xc3\xfb,\xca\xd6\xbb\xfa\r\n\xd5\xc5\xc8\xfd,13812345678\r\n"), "gbk.csv")
	f.Add([]byte("PK\x03\x04garbage"), "a.xlsx")
	f.Add(sampleXLSX(f), "s.xlsx")
	f.Add([]byte("姓名,手机\n王小明,138\n张\xff三,139\n"), "mojibake.csv")
	f.Fuzz(func(t *testing.T, data []byte, name string) {
		path := filepath.Join(t.TempDir(), "upload")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		scan, err := scanFile(path, name, &Options{}, testLimits)
		if err != nil {
			if handover.ErrorCode(err) != handover.EINVALID || handover.ErrorMessage(err) == "" {
				t.Fatalf("scan error is not a clean invalid-file error: %v", err)
			}
			return
		}
		rr, err := openRows(path, scan.Info, testLimits)
		if err != nil {
			t.Fatalf("second open failed after a clean scan: %v", err)
		}
		defer rr.Close()
		var n int64
		for rr.Next() {
			n++
			if rr.Line() < 1 {
				t.Fatalf("row number %d", rr.Line())
			}
			if rr.Invalid() != "" {
				continue
			}
			for _, cell := range rr.Row() {
				if !utf8.ValidString(cell) {
					t.Fatalf("row %d passed as valid with a cell that is not UTF-8", rr.Line())
				}
			}
		}
		if rr.Err() != nil || n != scan.Rows+1 {
			t.Fatalf("second pass: %d rows, %v; first pass counted %d data rows", n, rr.Err(), scan.Rows)
		}
	})
}

// testLimits are the default import limits.
var testLimits = (&Importer{}).limits()

// sampleXLSX builds a small workbook in memory.
func sampleXLSX(tb testing.TB) []byte {
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range [][]any{{"姓名", "手机", "邮箱"}, {"张三", 13812345678, "zhang@example.com"}, {}, {"李四", "139 1234 5678", ""}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestScanXLSX(t *testing.T) {
	path := filepath.Join(t.TempDir(), "customers.bin")
	os.WriteFile(path, sampleXLSX(t), 0o600)
	scan, err := scanFile(path, "customers.bin", &Options{}, testLimits) // format by content, not name
	if err != nil {
		t.Fatal(err)
	}
	if scan.Info.Format != FormatXLSX || scan.Rows != 2 {
		t.Fatalf("format %s rows %d, want xlsx 2", scan.Info.Format, scan.Rows)
	}
	rr, _ := openRows(path, scan.Info, testLimits)
	defer rr.Close()
	var lines []int64
	for rr.Next() {
		lines = append(lines, rr.Line())
	}
	if len(lines) != 3 || lines[2] != 4 {
		t.Fatalf("row numbers %v, want [1 2 4] (blank row 3 skipped)", lines)
	}
}
