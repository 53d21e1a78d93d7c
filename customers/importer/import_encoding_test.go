package importer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func gb18030(t testing.TB, s string) string {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func names(t testing.TB, s *customers.Store) []string {
	t.Helper()
	var out []string
	for _, c := range allCustomers(t, s, customers.Filter{}) {
		out = append(out, c.Name)
	}
	return out
}

// TestImportOneBadByteRejectsOnlyItsRow is finding 16: one invalid byte
// in an otherwise UTF-8 file made the whole file read as GB18030, and
// 王小明 was imported as 鐜嬪皬鏄 with "completed, 0 rejected".
func TestImportOneBadByteRejectsOnlyItsRow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		file := csvText("姓名,手机", "王小明,13812345678", "李四,13912345678", "张\xff三,13712345678")
		imp, err := newImporter(t, s).Run(context.Background(), writeFile(t, "mixed.csv", file), nil, "cli", nil)
		if err != nil {
			t.Fatal(err)
		}
		if imp.Status != importer.ImportCompleted || imp.Created != 2 || imp.Rejected != 1 {
			t.Fatalf("import = %+v", imp)
		}
		if got := strings.Join(names(t, s), ","); got != "王小明,李四" {
			t.Fatalf("names %q", got)
		}
		got, err := newImporter(t, s).FindImportByID(context.Background(), imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Errors) != 1 || got.Errors[0].Row != 4 || got.Errors[0].Field != "encoding" || !strings.Contains(got.Errors[0].Reason, "UTF-8") {
			t.Fatalf("errors %+v", got.Errors)
		}
	})
}

// TestImportEncodingEvidence: GB18030 is chosen only when the file says
// so; a UTF-8 row in it is rejected, not transcoded; an even mix fails
// and names the remedy; an explicit encoding is obeyed, and rows invalid
// in it are rejected.
func TestImportEncodingEvidence(t *testing.T) {
	lines := []string{"姓名,手机"}
	for i := range 40 {
		lines = append(lines, fmt.Sprintf("客户%d,1381234%04d", i, i))
	}
	gbLines := make([]string, len(lines))
	for i, l := range lines {
		gbLines[i] = gb18030(t, l)
	}
	withUTF8Row := append(append([]string(nil), gbLines...), "王小明,13912340000")
	cases := []struct {
		name              string
		file              []byte
		encoding          string
		created, rejected int64
		failure           string
	}{
		{"gb18030 with one utf-8 row", csvText(withUTF8Row...), "", 40, 1, ""},
		{"half and half", csvText(lines[0], lines[1], gbLines[2], gbLines[3]), "", 0, 0, "encoding (utf-8 or gb18030)"},
		{"half and half, told gb18030", csvText(gbLines[0], lines[1], gbLines[2], gbLines[3]), "gb18030", 2, 1, ""},
		{"gb18030 file told utf-8", csvText(gbLines[:4]...), "utf-8", 0, 0, "no column"},
		{"bom and gb18030", append([]byte("\xef\xbb\xbf"), csvText(lines[:3]...)...), "gb18030", 0, 0, "byte-order mark"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				s := newStore(t, db)
				imp, err := newImporter(t, s).Run(context.Background(), writeFile(t, "f.csv", c.file),
					&importer.Options{Encoding: c.encoding}, "cli", nil)
				if c.failure != "" {
					if err == nil || imp.Status != importer.ImportFailed || !strings.Contains(imp.Failure, c.failure) {
						t.Fatalf("import = %+v, %v; want failure %q", imp, err, c.failure)
					}
					return
				}
				if err != nil || imp.Created != c.created || imp.Rejected != c.rejected {
					t.Fatalf("import = %+v, %v", imp, err)
				}
				for _, n := range names(t, s) {
					if !strings.HasPrefix(n, "客户") {
						t.Fatalf("name %q was transcoded", n)
					}
				}
			})
		})
	}
}

func TestParseEncoding(t *testing.T) {
	for in, want := range map[string]string{"": "auto", "AUTO": "auto", "UTF8": "utf-8", "utf-8": "utf-8", "GBK": "gb18030", "gb2312": "gb18030"} {
		if got, err := importer.ParseEncoding(in); err != nil || got != want {
			t.Errorf("ParseEncoding(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := importer.ParseEncoding("latin1"); err == nil {
		t.Error("latin1 accepted")
	}
}
