package locales

import (
	"regexp"
	"slices"
	"testing"
	"testing/fstest"
)

// TestEveryKeyInEveryLanguage: a text added in one language and not the
// other would show its key to half the readers.
func TestEveryKeyInEveryLanguage(t *testing.T) {
	zh, en := Keys(Chinese), Keys(English)
	if len(zh) < 400 {
		t.Fatalf("only %d zh-CN texts loaded", len(zh))
	}
	for _, k := range zh {
		if !Has(English, k) {
			t.Errorf("%q has no en text", k)
		}
	}
	for _, k := range en {
		if !Has(Chinese, k) {
			t.Errorf("%q has no zh-CN text", k)
		}
	}
}

var verb = regexp.MustCompile(`%[-+# 0-9.]*[a-zA-Z%]|\{\{[^}]*\}\}`)

// TestPlaceholdersAgree: both languages of a text take the same
// arguments, or a translation would print %!s(MISSING) or drop a value.
func TestPlaceholdersAgree(t *testing.T) {
	for _, k := range Keys(Chinese) {
		zh, en := verb.FindAllString(T(Chinese, k), -1), verb.FindAllString(T(English, k), -1)
		slices.Sort(zh)
		slices.Sort(en)
		if !slices.Equal(zh, en) {
			t.Errorf("%q: zh-CN takes %v, en takes %v", k, zh, en)
		}
		if T(Chinese, k) == "" || T(English, k) == "" {
			t.Errorf("%q has an empty text", k)
		}
	}
}

func TestLookup(t *testing.T) {
	if got := T(English, "portal.nav_notice"); got != "Notice" {
		t.Errorf("en portal.nav_notice = %q", got)
	}
	if got := T("en-GB", "portal.nav_notice"); got != "Notice" {
		t.Errorf("en-GB falls back to %q, want en", got)
	}
	if got := T("fr", "portal.nav_notice"); got != "告知书" {
		t.Errorf("an unknown language gets %q, want the default zh-CN", got)
	}
	if got := T(English, "no.such.key"); got != "no.such.key" {
		t.Errorf("a missing key shows %q, want the key", got)
	}
	if got := Prefixed(English, "portal.")["nav_notice"]; got != "Notice" {
		t.Errorf("Prefixed gives %q", got)
	}
}

func TestFormatPlurals(t *testing.T) {
	c, err := load(fstest.MapFS{
		"x.en.yaml":    {Data: []byte("rows:\n  one: \"{{.Count}} row\"\n  other: \"{{.Count}} rows\"\n")},
		"x.zh-CN.yaml": {Data: []byte("rows: \"{{.Count}} 行\"\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	saved := cat
	cat = c
	defer func() { cat = saved }()
	if got := Format(English, "rows", map[string]any{"Count": 1}, 1); got != "1 row" {
		t.Errorf("en one = %q", got)
	}
	if got := Format(English, "rows", map[string]any{"Count": 3}, 3); got != "3 rows" {
		t.Errorf("en other = %q", got)
	}
	if got := Format(Chinese, "rows", map[string]any{"Count": 3}, 3); got != "3 行" {
		t.Errorf("zh-CN = %q", got)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"unknown language": {"x.fr.yaml": {Data: []byte("a: b\n")}},
		"twice":            {"x.en.yaml": {Data: []byte("a: b\n")}, "y.en.yaml": {Data: []byte("a: c\n")}},
		"not yaml":         {"x.en.yaml": {Data: []byte("a: [\n")}},
	} {
		if _, err := load(fsys); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
}
