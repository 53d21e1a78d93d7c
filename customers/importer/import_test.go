package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/audit"
	"github.com/handoverhq/handover/customers"
	"github.com/handoverhq/handover/customers/importer"
	"github.com/handoverhq/handover/database"
	"github.com/handoverhq/handover/database/dbtest"
)

func TestImportCSVEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GB18030.NewEncoder().Bytes(sampleCSV)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string][]byte{
		"utf8":    sampleCSV,
		"utf8bom": append([]byte("\xef\xbb\xbf"), sampleCSV...),
		"gb18030": gbk,
	} {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				s := newStore(t, db)
				imp, err := newImporter(t, s).Run(context.Background(), writeFile(t, "客户.csv", content), nil, "cli", nil)
				if err != nil {
					t.Fatal(err)
				}
				if imp.Status != importer.ImportCompleted || imp.Format != "csv" || imp.TotalRows != 3 || imp.Created != 3 || imp.Rejected != 0 {
					t.Fatalf("import = %+v", imp)
				}
				list := allCustomers(t, s, customers.Filter{})
				if len(list) != 3 {
					t.Fatalf("%d customers, want 3", len(list))
				}
				c := list[0]
				if c.Name != "张三" || c.Phone != "+8613812345678" || c.Email != "Zhang@example.com" || c.ExternalRef != "C001" ||
					c.Company != "上海张氏贸易" || c.Region != "上海" || strings.Join(c.Tags, "|") != "vip|批发" ||
					c.ImportID != imp.ID || c.Status != customers.StatusActive || c.Locale != "zh-CN" {
					t.Fatalf("customer = %+v", c)
				}
				if list[2].Email != "wang@example.com" || len(list[2].Tags) != 2 {
					t.Fatalf("third customer = %+v", list[2])
				}
			})
		})
	}
}

// xlsxFile builds a workbook with rows in its first sheet.
func xlsxFile(t testing.TB, rows [][]any) []byte {
	t.Helper()
	x := excelize.NewFile()
	defer x.Close()
	for i, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := x.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := x.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestImportXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		s := newStore(t, db)
		content := xlsxFile(t, [][]any{
			{"Name", "Mobile", "E-mail", "Tags", "Language"},
			{"Alice", 13812345678, "alice@example.com", "vip|b2b", "English"},
			{"Bob", "13912345678", "", "", ""},
			{"Carol", "12345", "", "", ""},
		})
		var calls int
		imp, err := newImporter(t, s).Run(context.Background(), writeFile(t, "list.xlsx", content), nil, "cli", func(done, total int64) {
			calls++
			if total != 3 || done > total {
				t.Errorf("progress %d/%d", done, total)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if imp.Format != "xlsx" || imp.Created != 2 || imp.Rejected != 1 || calls == 0 {
			t.Fatalf("import = %+v, progress calls %d", imp, calls)
		}
		got, _ := newImporter(t, s).FindImportByID(context.Background(), imp.ID)
		if len(got.Errors) != 1 || got.Errors[0] != (importer.RowError{Row: 4, Field: "phone", Reason: got.Errors[0].Reason}) {
			t.Fatalf("errors = %+v", got.Errors)
		}
		list := allCustomers(t, s, customers.Filter{})
		if list[0].Phone != "+8613812345678" || list[0].Locale != "en" || list[1].Phone != "+8613912345678" {
			t.Fatalf("customers = %+v %+v", list[0], list[1])
		}
	})
}

func TestImportDedup(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		im := newImporter(t, s)
		path := writeFile(t, "a.csv", sampleCSV)
		if _, err := im.Run(ctx, path, nil, "cli", nil); err != nil {
			t.Fatal(err)
		}
		again, err := im.Run(ctx, path, nil, "cli", nil)
		if err != nil || again.Created != 0 || again.Updated != 3 {
			t.Fatalf("re-import = %+v, %v; want 0 created, 3 updated", again, err)
		}
		// Same phone twice in one file (and across batches: batch size 1):
		// the later row updates the earlier.
		im.BatchSize = 1
		dup := writeFile(t, "dup.csv", csvText("姓名,手机,公司",
			"赵六,15012345678,甲公司",
			"赵六六,150-1234-5678,",
			"钱七,15112345678,"))
		imp, err := im.Run(ctx, dup, nil, "cli", nil)
		if err != nil || imp.Created != 2 || imp.Updated != 1 {
			t.Fatalf("dup import = %+v, %v", imp, err)
		}
		im.BatchSize = 1000
		found, _, err := s.FindCustomers(ctx, customers.Filter{Phone: "15012345678"})
		if err != nil || len(found) != 1 || found[0].Name != "赵六六" || found[0].Company != "甲公司" {
			t.Fatalf("merged customer = %+v, %v", found, err)
		}
		// Phone of one customer and email of another: rejected, nothing merged.
		conflict := writeFile(t, "c.csv", csvText("name,phone,email",
			"x,13812345678,wang@example.com",
			"y,13612345678,new@example.com",
			"z,13612345678,new2@example.com"))
		imp, err = im.Run(ctx, conflict, nil, "cli", nil)
		if err != nil || imp.Rejected != 1 || imp.Created != 1 || imp.Updated != 1 {
			t.Fatalf("conflict import = %+v, %v", imp, err)
		}
		got, _ := newImporter(t, s).FindImportByID(ctx, imp.ID)
		if len(got.Errors) != 1 || got.Errors[0].Row != 2 || got.Errors[0].Field != "phone,email" {
			t.Fatalf("errors = %+v", got.Errors)
		}
		if n := countRows(t, db, "customers"); n != 6 {
			t.Fatalf("%d customers, want 6", n)
		}
		if n := countRows(t, db, "customer_keys"); n != 6 {
			t.Fatalf("%d customer keys, want 6", n)
		}
	})
}

func TestImportReportsRejectedRows(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		path := writeFile(t, "r.csv", csvText("姓名,手机,邮箱,语言",
			"好,13812345678,a@example.com,zh-CN",
			"坏手机,1234567,,",
			"坏邮箱,,Bad <bad@example.com>,",
			"",
			"无联系,,,",
			"两错,99,nope,xx-invalid-locale-tag-too-long-to-be-real",
			"好二,13912345678,,"))
		imp, err := newImporter(t, s).Run(ctx, path, nil, "staff:s1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if imp.TotalRows != 6 || imp.Created != 2 || imp.Rejected != 4 || imp.ProcessedRows != 6 {
			t.Fatalf("import = %+v", imp)
		}
		got, err := newImporter(t, s).FindImportByID(ctx, imp.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []struct {
			row   int64
			field string
		}{{3, "phone"}, {4, "email"}, {6, "contact"}, {7, "email"}, {7, "locale"}, {7, "phone"}}
		if len(got.Errors) != len(want) {
			t.Fatalf("errors = %+v", got.Errors)
		}
		for i, w := range want {
			e := got.Errors[i]
			if e.Row != w.row || e.Field != w.field || e.Reason == "" {
				t.Errorf("error %d = %+v, want row %d field %s", i, e, w.row, w.field)
			}
			for _, secret := range []string{"1234567", "bad@example.com", "nope", "xx-invalid"} {
				if strings.Contains(e.Reason, secret) {
					t.Errorf("reason quotes the rejected value: %q", e.Reason)
				}
			}
		}
		entries, err := audit.Find(ctx, db, audit.Filter{Action: "import.complete", ObjectID: imp.ID})
		if err != nil || len(entries) != 1 || entries[0].Actor != "staff:s1" || !strings.Contains(entries[0].Detail, "rejected=4") {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})
}

func TestImportUnreadableFileWritesNothing(t *testing.T) {
	var b strings.Builder
	b.WriteString("name,phone\n")
	for i := 2; i <= 6000; i++ {
		if i == 5000 {
			b.WriteString("bad \"quote,13800000000\n")
			continue
		}
		fmt.Fprintf(&b, "客户%d,1380%07d\n", i, i)
	}
	good := xlsxFile(t, [][]any{{"name", "phone"}, {"a", "13812345678"}})
	for name, c := range map[string]struct {
		file, content, failure string
	}{
		"bare quote":     {"big.csv", b.String(), "line 5000"},
		"truncated xlsx": {"t.xlsx", string(good[:len(good)/2]), "damaged"},
		"garbage xlsx":   {"g.xlsx", "this is not a workbook", "not an Excel workbook"},
		"xls":            {"old.xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", ".xls"},
		"no header":      {"n.csv", "张三,13812345678\n", "is the header row missing"},
		"header only":    {"h.csv", "name,phone\n", "no data rows"},
		"utf16":          {"u.csv", "\xff\xfen\x00", "UTF-16"},
	} {
		t.Run(name, func(t *testing.T) {
			dbtest.Each(t, func(t *testing.T, db *database.DB) {
				ctx := context.Background()
				s := newStore(t, db)
				imp, err := newImporter(t, s).Run(ctx, writeFile(t, c.file, []byte(c.content)), nil, "cli", nil)
				if handover.ErrorCode(err) != handover.EINVALID || imp == nil {
					t.Fatalf("Run = %+v, %v; want a failed import and invalid", imp, err)
				}
				got, _ := newImporter(t, s).FindImportByID(ctx, imp.ID)
				if got.Status != importer.ImportFailed || !strings.Contains(got.Failure, c.failure) || got.FinishedAt == nil {
					t.Fatalf("import = %+v; want failed with %q", got, c.failure)
				}
				if strings.Contains(got.Failure, "13812345678") || strings.Contains(got.Failure, "张三") {
					t.Fatalf("failure quotes personal data: %s", got.Failure)
				}
				if n := countRows(t, db, "customers"); n != 0 {
					t.Fatalf("%d customers written from an unreadable file", n)
				}
			})
		})
	}
}

func TestStartRunsInBackground(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		im := newImporter(t, s)
		imp, err := im.Start(ctx, "客户.csv", bytes.NewReader(sampleCSV), &importer.Options{Mapping: importer.Mapping{"客户名称": "name"}}, "staff:s1")
		if err != nil || imp.Status != importer.ImportPending {
			t.Fatalf("Start = %+v, %v", imp, err)
		}
		im.Wait()
		got, err := newImporter(t, s).FindImportByID(ctx, imp.ID)
		if err != nil || got.Status != importer.ImportCompleted || got.Created != 3 || got.StartedAt == nil || got.CreatedBy != "staff:s1" {
			t.Fatalf("import = %+v, %v", got, err)
		}
		im.MaxBytes = 10
		if _, err := im.Start(ctx, "big.csv", bytes.NewReader(sampleCSV), nil, "staff:s1"); handover.ErrorCode(err) != handover.ETOOLARGE {
			t.Fatalf("oversized upload: %v", err)
		}
		if _, err := im.Start(ctx, "m.csv", bytes.NewReader(sampleCSV), &importer.Options{Mapping: importer.Mapping{"x": "nickname"}}, "staff:s1"); handover.ErrorCode(err) != handover.EINVALID {
			t.Fatalf("bad mapping: %v", err)
		}
	})
}

func TestFailInterruptedImports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := newStore(t, db)
		_, err := db.ExecContext(ctx, `INSERT INTO imports (id, file_name, format, status, created_by, created_at, heartbeat_at)
			VALUES ('01J0000000000000000000000A', 'a.csv', 'csv', 'running', 'cli', $1, $1)`, db.Now().Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		n, err := newImporter(t, s).FailInterruptedImports(ctx)
		if err != nil || n != 1 {
			t.Fatalf("FailInterruptedImports = %d, %v", n, err)
		}
		got, _ := newImporter(t, s).FindImportByID(ctx, "01J0000000000000000000000A")
		if got.Status != importer.ImportFailed || got.Failure != "interrupted: run the import again" {
			t.Fatalf("import = %+v", got)
		}
	})
}
