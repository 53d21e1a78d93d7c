package importer

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover"
)

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
