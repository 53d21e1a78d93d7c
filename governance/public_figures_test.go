package governance_test

import (
	"testing"
	"time"

	"github.com/handoverhq/handover/governance"
)

func TestMedianText(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{0, "—"},
		{90 * time.Minute, "1.5 h"},
		{47 * time.Hour, "47.0 h"},
		{60 * time.Hour, "2.5 d"},
	} {
		if got := (governance.RightsFigures{CorrectionMedian: c.d}).MedianText(); got != c.want {
			t.Errorf("MedianText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
