package portal

import (
	"testing"

	"github.com/handoverhq/handover/customers"
)

func TestConsentDecision(t *testing.T) {
	for _, tc := range []struct{ current, choice, want string }{
		{"", "grant", customers.ConsentGranted},
		{"", "decline", customers.ConsentDeclined},
		{customers.ConsentGranted, "grant", customers.ConsentGranted}, // recorded as no change by the store
		{customers.ConsentGranted, "decline", customers.ConsentWithdrawn},
		{customers.ConsentDeclined, "decline", ""},
		{customers.ConsentWithdrawn, "decline", ""},
		{customers.ConsentWithdrawn, "grant", customers.ConsentGranted},
		{customers.ConsentDeclined, "grant", customers.ConsentGranted},
	} {
		if got := decision(tc.current, tc.choice); got != tc.want {
			t.Errorf("decision(%q, %q) = %q, want %q", tc.current, tc.choice, got, tc.want)
		}
	}
}

// TestPortalTextComplete: every key has both languages.
func TestPortalTextComplete(t *testing.T) {
	for k, zh := range portalText["zh-CN"] {
		if zh == "" || portalText["en"][k] == "" {
			t.Errorf("%s lacks a language", k)
		}
	}
}
