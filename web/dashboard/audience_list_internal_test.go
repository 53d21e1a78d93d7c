package dashboard

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseAudienceList(t *testing.T) {
	in := "\ufeff手机,邮箱,id\n138 1234 5678,,\n,LI@Example.com,01arz3ndektsv4rrffq69g5fav\n\"=1+2\",x,\n13812345678,,\n"
	got, bad, err := parseAudienceList(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []listEntry{{"phone", "+8613812345678"}, {"email", "LI@example.com"}, {"id", "01ARZ3NDEKTSV4RRFFQ69G5FAV"}}
	if len(got) != len(want) || bad != 2 {
		t.Fatalf("got %v, %d bad", got, bad)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %v, want %v", i, got[i], want[i])
		}
	}
	if _, _, err := parseAudienceList(strings.NewReader("\xff\xfe")); err == nil {
		t.Error("binary accepted")
	}
}

func FuzzParseAudienceList(f *testing.F) {
	for _, s := range []string{"", "phone\n13812345678\n", "a@b.cn,\"x\"\"y\"\n", "\"unterminated\n", "=cmd|' /C calc'!A0\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, bad, err := parseAudienceList(strings.NewReader(s))
		if err != nil {
			return
		}
		if bad < 0 {
			t.Fatal("negative bad count")
		}
		seen := map[listEntry]bool{}
		for _, e := range got {
			if seen[e] || e.Value == "" || !utf8.ValidString(e.Value) || (e.Kind != "id" && e.Kind != "phone" && e.Kind != "email") {
				t.Fatalf("entry %+v", e)
			}
			seen[e] = true
		}
	})
}

func TestFormulaSafe(t *testing.T) {
	for in, want := range map[string]string{"=1+2": "'=1+2", "+8613812345678": "'+8613812345678", "-1": "'-1", "@x": "'@x",
		"\tx": "'\tx", "\rx": "'\rx", "张三": "张三", "": ""} {
		if got := formulaSafe(in); got != want {
			t.Errorf("formulaSafe(%q) = %q, want %q", in, got, want)
		}
	}
}
