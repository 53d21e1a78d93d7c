package dashboard

import "testing"

// FuzzParseMapping: any text either is refused or reads back the same
// after it is written out again.
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{"code = {{.LinkToken}}\nname={{.Customer.Name}}", "", "=x", "a = b = c\n\n", "a=1\na=2", "\r\nx = y\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := parseMapping(text)
		if err != nil {
			return
		}
		again, err := parseMapping(formatMapping(m))
		if err != nil || len(again) != len(m) {
			t.Fatalf("round trip of %q: %v %v", text, again, err)
		}
		for k, v := range m {
			if again[k] != v {
				t.Fatalf("round trip of %q: %q = %q, then %q", text, k, v, again[k])
			}
		}
	})
}

func TestParseMappingRefuses(t *testing.T) {
	for _, text := range []string{"no equals sign", " = value", "a = 1\na = 2"} {
		if _, err := parseMapping(text); err == nil {
			t.Errorf("%q accepted", text)
		}
	}
}
