package rights_test

import (
	"testing"

	"github.com/handoverhq/handover/locales"
	"github.com/handoverhq/handover/rights"
)

// TestCorrectionStatusWords: every status has its words in both languages
// and String is the stored value.
func TestCorrectionStatusWords(t *testing.T) {
	for _, st := range []rights.CorrectionStatus{rights.CorrectionAwaitingConfirmation, rights.CorrectionPending,
		rights.CorrectionApproved, rights.CorrectionRejected, rights.CorrectionCancelled} {
		if st.String() != string(st) {
			t.Errorf("%q.String() = %q", string(st), st.String())
		}
		for _, lang := range []string{"en", "zh-CN"} {
			if !locales.Has(lang, st.Key()) {
				t.Errorf("%s has no %s", lang, st.Key())
			}
		}
	}
}
