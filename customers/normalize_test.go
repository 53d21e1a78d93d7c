package customers

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/handoverhq/handover"
)

func TestNormalizePhone(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"13812345678", "+8613812345678"},
		{"138 1234 5678", "+8613812345678"},
		{"138-1234-5678", "+8613812345678"},
		{"１３８１２３４５６７８", "+8613812345678"},
		{"+86 138 1234 5678", "+8613812345678"},
		{"+86-138-1234-5678", "+8613812345678"},
		{"008613812345678", "+8613812345678"},
		{"8613812345678", "+8613812345678"},
		{"13812345678.0", "+8613812345678"},
		{"1.3812345678E+10", "+8613812345678"},
		{"(010) 6552 9988", "+861065529988"},
		{"+1 415 555 2671", "+14155552671"},
		{"+44 20 7946 0958", "+442079460958"},
		{" 13812345678 ", "+8613812345678"},
		{"", ""},
		{"1381234567", ""},  // 10 digits
		{"23812345678", ""}, // no such prefix
		{"12345", ""},
		{"abc", ""},
		{"138x1234x5678", ""},
		{"+999 1234567", ""},
		{strings.Repeat("1", 60), ""},
	} {
		got, err := NormalizePhone(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if err != nil {
			if handover.ErrorCode(err) != handover.EINVALID {
				t.Errorf("NormalizePhone(%q): code %s, want invalid", c.in, handover.ErrorCode(err))
			}
			if c.in != "" && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
				t.Errorf("NormalizePhone(%q): error quotes the number: %v", c.in, err)
			}
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"zhang@Example.COM", "zhang@example.com"},
		{" Li.Si@example.com.cn ", "Li.Si@example.com.cn"},
		{"ｗａｎｇ＠example.com", "wang@example.com"},
		{"Zhang <zhang@example.com>", ""},
		{"<zhang@example.com>", ""},
		{"zhang@example", ""},
		{"zhang", ""},
		{"a@b@example.com", ""},
		{"", ""},
	} {
		got, err := NormalizeEmail(c.in)
		if got != c.want || (err != nil) != (c.want == "") {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestSplitTags(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"vip,批发", "vip,批发"},
		{"vip，批发；华东、老客户|b2b; vip", "vip,批发,华东,老客户,b2b"},
		{" , ,", ""},
	} {
		got, problem := splitTags(c.in)
		if strings.Join(got, ",") != c.want || problem != "" {
			t.Errorf("splitTags(%q) = %q, %q; want %q", c.in, got, problem, c.want)
		}
	}
	if _, problem := splitTags(strings.Repeat("x", 101)); problem == "" {
		t.Error("a 101-character tag was accepted")
	}
}

func TestResolveColumns(t *testing.T) {
	for _, c := range []struct {
		name    string
		header  []string
		mapping Mapping
		want    map[string][]int // field → columns
		wantErr bool
	}{
		{name: "chinese", header: []string{"客户编号", "客户名称", "手机号码", "电子邮箱", "公司名称", "联系地址", "省份", "标签", "微信", "语言"},
			want: map[string][]int{"external_ref": {0}, "name": {1}, "phone": {2}, "email": {3}, "company": {4}, "address": {5}, "region": {6}, "tags": {7}, "wechat_openid": {8}, "locale": {9}}},
		{name: "english any case and spacing", header: []string{"Full Name", "MOBILE", "E-mail", " Company ", "openid", "External_Ref"},
			want: map[string][]int{"name": {0}, "phone": {1}, "email": {2}, "company": {3}, "wechat_openid": {4}, "external_ref": {5}}},
		{name: "full-width and bom", header: []string{"\ufeff姓名", "Ｅｍａｉｌ"}, want: map[string][]int{"name": {0}, "email": {1}}},
		{name: "two phone columns", header: []string{"联系人", "手机", "电话"}, want: map[string][]int{"name": {0}, "phone": {1, 2}}},
		{name: "mapping overrides", header: []string{"买家", "手机", "备注"}, mapping: Mapping{"买家": "name", "手机": "", "备注": "tags"},
			want: map[string][]int{"name": {0}, "tags": {2}}},
		{name: "unknown columns only", header: []string{"备注", "金额"}, wantErr: true},
		{name: "no header row", header: []string{"张三", "13812345678"}, wantErr: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cols, err := resolveColumns(c.header, c.mapping)
			if c.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), "13812345678") || strings.Contains(err.Error(), "张三") {
					t.Fatalf("error quotes data from the first row: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for i, positions := range cols {
				want := c.want[importFields[i]]
				if len(positions) != len(want) {
					t.Fatalf("%s: columns %v, want %v", importFields[i], positions, want)
				}
				for j := range want {
					if positions[j] != want[j] {
						t.Fatalf("%s: columns %v, want %v", importFields[i], positions, want)
					}
				}
			}
		})
	}
}

func TestResolveColumnsListsHeaders(t *testing.T) {
	_, err := resolveColumns([]string{"备注", "金额"}, nil)
	if msg := handover.ErrorMessage(err); !strings.Contains(msg, `"备注"`) || !strings.Contains(msg, `"金额"`) {
		t.Fatalf("message does not list the headers found: %s", msg)
	}
}

func TestParseMapping(t *testing.T) {
	m, err := ParseMapping(`{"客户名称":"name","手机":"phone"}`)
	if err != nil || m["客户名称"] != "name" {
		t.Fatalf("ParseMapping = %v, %v", m, err)
	}
	for _, bad := range []string{`{"a":"nickname"}`, `["name"]`, `{`} {
		if _, err := ParseMapping(bad); handover.ErrorCode(err) != handover.EINVALID {
			t.Errorf("ParseMapping(%s) = %v, want invalid", bad, err)
		}
	}
	if len(importFields) != numFields {
		t.Fatalf("numFields = %d, want %d", numFields, len(importFields))
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138-1234-5678", "１３８", "1.3812345678E+10", "0086", "+", "--", "1e308", "9.9e14"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalizePhone(s)
		if err != nil {
			if got != "" || handover.ErrorCode(err) != handover.EINVALID {
				t.Fatalf("NormalizePhone(%q) = %q, %v", s, got, err)
			}
			return
		}
		if !strings.HasPrefix(got, "+") {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", s, got)
		}
		if again, err := NormalizePhone(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q → %q → %q, %v", s, got, again, err)
		}
	})
}

// TestMobilePrefixCacheAgrees checks the assumption behind the prefix
// cache: for 11-digit numbers starting with 1, the full parser's verdict
// depends on the first 7 digits only.
func TestMobilePrefixCacheAgrees(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for i := 0; i < n; i++ {
		prefix := fmt.Sprintf("1%06d", rng.IntN(1000000))
		first, err1 := parsePhone(prefix + fmt.Sprintf("%04d", rng.IntN(10000)))
		second, err2 := parsePhone(prefix + fmt.Sprintf("%04d", rng.IntN(10000)))
		if (err1 == nil) != (err2 == nil) || (err1 == nil && first[:10] != second[:10]) {
			t.Fatalf("prefix %s: verdicts differ: %q %v / %q %v", prefix, first, err1, second, err2)
		}
		if got, err := NormalizePhone(prefix + "1234"); (err == nil) != (err1 == nil) || (err == nil && got != "+86"+prefix+"1234") {
			t.Fatalf("NormalizePhone(%s1234) = %q, %v; parser says %v", prefix, got, err, err1)
		}
	}
}
