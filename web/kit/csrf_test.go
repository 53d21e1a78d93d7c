package kit

import (
	"strings"
	"testing"

	"github.com/handoverhq/handover/staff"
)

// FuzzCSRFMatches: a sent token matches only the expected token itself,
// whatever bytes arrive in the form field or header.
func FuzzCSRFMatches(f *testing.F) {
	want := staff.NewToken()
	for _, seed := range []string{"", want, want + "x", strings.ToUpper(want), "\x00", strings.Repeat("a", 43)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, got string) {
		if CSRFMatches(want, got) != (got == want) {
			t.Fatalf("CSRFMatches(%q) = %t", got, !(got == want))
		}
		if CSRFMatches("", got) || CSRFMatches(got, "") {
			t.Fatal("an empty token matched")
		}
	})
}
