package importer_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

// rezip copies a workbook, replacing its first sheet with sheet; lie, when
// above zero, is the uncompressed size the zip directory declares for it.
func rezip(t testing.TB, book []byte, sheet []byte, lie uint64) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(book), int64(len(book)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		if f.Name != "xl/worksheets/sheet1.xml" {
			if err := zw.Copy(f); err != nil {
				t.Fatal(err)
			}
			continue
		}
		var deflated bytes.Buffer
		fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
		fw.Write(sheet)
		fw.Close()
		h := &zip.FileHeader{Name: f.Name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(sheet),
			CompressedSize64: uint64(deflated.Len()), UncompressedSize64: uint64(len(sheet))}
		if lie > 0 {
			h.UncompressedSize64 = lie
		}
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(deflated.Bytes())
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// sheetXML is a worksheet of n rows, each a name and a phone; rows
// without an r attribute, as the bomb had them.
func sheetXML(n int, row string) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	b.WriteString(`<row><c t="inlineStr"><is><t>姓名</t></is></c><c t="inlineStr"><is><t>手机</t></is></c></row>`)
	for range n {
		b.WriteString(row)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.Bytes()
}

// spoolFiles lists what an import left in dir.
func spoolFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			out = append(out, fmt.Sprintf("%s (%d bytes)", filepath.Base(path), info.Size()))
		}
		return nil
	})
	return out
}

// TestImportXLSXBomb is finding 14: an 8 MB upload expanded to a 2.38 GB
// temporary file. The zip directory is read first; a part that inflates
// past what the directory declares is a damaged file, not a bigger one.
func TestImportXLSXBomb(t *testing.T) {
	book := xlsxFile(t, [][]any{{"姓名", "手机"}, {"张三", "13812345678"}})
	bombSheet := sheetXML(200_000, `<row><c t="inlineStr"><is><t>x</t></is></c></row>`) // ~10 MB, deflates to ~20 KB
	cases := []struct {
		name, failure string
		file          []byte
	}{
		{"declared size over the cap", "HANDOVER_IMPORT_MAX_UNZIPPED_MB", rezip(t, book, bombSheet, 0)},
		{"declared size a lie", "damaged", rezip(t, book, bombSheet, 1000)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if len(c.file) > 200<<10 {
				t.Fatalf("the bomb is %d bytes: not a bomb", len(c.file))
			}
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				dir := t.TempDir()
				im := importer.New(newStore(t, db), filepath.Join(dir, "spool"), nil)
				im.MaxUnzippedBytes = 1 << 20
				path := filepath.Join(dir, "in", "bomb.xlsx")
				os.MkdirAll(filepath.Dir(path), 0o700)
				os.WriteFile(path, c.file, 0o600)
				imp, err := im.Run(context.Background(), path, nil, "cli", nil)
				if err == nil || imp.Status != importer.ImportFailed || !strings.Contains(imp.Failure, c.failure) || imp.ProcessedRows != 0 {
					t.Fatalf("import = %+v, %v; want failure %q", imp, err, c.failure)
				}
				if left := spoolFiles(t, filepath.Dir(path)); len(left) != 1 {
					t.Fatalf("left behind: %v", left)
				}
			})
		})
	}
	t.Run("within the cap", func(t *testing.T) {
		dbtest.Each(t, func(t *testing.T, db *database.DB) {
			s := newStore(t, db)
			ok := rezip(t, book, sheetXML(3, `<row><c t="inlineStr"><is><t>李四</t></is></c><c t="inlineStr"><is><t>13912345678</t></is></c></row>`), 0)
			imp, err := newImporter(t, s).Run(context.Background(), writeFile(t, "ok.xlsx", ok), nil, "cli", nil)
			if err != nil || imp.Created != 1 || imp.Updated != 2 {
				t.Fatalf("import = %+v, %v", imp, err)
			}
		})
	})
}

// TestImportRowCap: rows past HANDOVER_IMPORT_MAX_ROWS, blank ones
// included, fail the file before anything is written.
func TestImportRowCap(t *testing.T) {
	book := xlsxFile(t, [][]any{{"姓名", "手机"}})
	var lines []string
	lines = append(lines, "姓名,手机")
	for i := range 30 {
		lines = append(lines, fmt.Sprintf("客户%d,1381234%04d", i, i))
	}
	files := map[string][]byte{
		"rows.csv":       csvText(lines...),
		"blank.xlsx":     rezip(t, book, sheetXML(30, `<row></row>`), 0),
		"separators.csv": csvText(append(lines[:3:3], strings.Repeat(",\r\n", 30))...),
	}
	for name, file := range files {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				s := newStore(t, db)
				im := newImporter(t, s)
				im.MaxRows = 20
				imp, err := im.Run(context.Background(), writeFile(t, name, file), nil, "cli", nil)
				if err == nil || !strings.Contains(imp.Failure, "more than 20 rows") || countRows(t, db, "customers") != 0 {
					t.Fatalf("import = %+v, %v", imp, err)
				}
			})
		})
	}
}

// TestImportStopsWhenFirstRowsAllRejected: 20,000,000 rejected rows took
// 6 minutes of CPU; a file whose first rows are all rejected is the wrong
// file (or mapping, or encoding) and stops at once.
func TestImportStopsWhenFirstRowsAllRejected(t *testing.T) {
	bad := []string{"姓名,手机"}
	for i := range 200 {
		bad = append(bad, fmt.Sprintf("客户%d,not-a-phone", i))
	}
	late := append(append([]string(nil), bad[:50]...), "好客户,13812345678")
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		im := newImporter(t, s)
		im.RejectStop = 50
		imp, err := im.Run(context.Background(), writeFile(t, "bad.csv", csvText(bad...)), nil, "cli", nil)
		if err == nil || imp.Status != importer.ImportFailed || !strings.Contains(imp.Failure, "first 50 rows were all rejected") ||
			!strings.Contains(imp.Failure, "row 2, phone") || imp.ProcessedRows != 0 {
			t.Fatalf("import = %+v, %v", imp, err)
		}
		if strings.Contains(imp.Failure, "not-a-phone") {
			t.Fatalf("failure quotes a value: %s", imp.Failure)
		}
		// 49 rejected rows, then a good one: the import runs.
		imp, err = im.Run(context.Background(), writeFile(t, "late.csv", csvText(late...)), nil, "cli", nil)
		if err != nil || imp.Created != 1 || imp.Rejected != 49 {
			t.Fatalf("import = %+v, %v", imp, err)
		}
	})
}
