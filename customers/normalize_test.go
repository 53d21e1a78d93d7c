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
