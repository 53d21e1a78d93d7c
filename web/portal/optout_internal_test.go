package portal

import (
	"slices"
	"strings"
	"testing"

	"github.com/handoverhq/handover/customers"
)

// FuzzParseOptOuts: whatever boxes a form posts, parseOptOuts accepts
// only the offered channel × kind pairs, each once.
func FuzzParseOptOuts(f *testing.F) {
	for _, seed := range []string{"sms:promotional", "sms:survey\nemail:service", "sms:required", "devbox:survey", ":", "sms:promotional\nsms:promotional", "wechat:*"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, form string) {
		offered := customers.OptOutChannels[:3]
		list, ok := parseOptOuts(strings.Split(form, "\n"), offered)
		if !ok {
			if list != nil {
				t.Fatalf("refused %q but returned %v", form, list)
			}
			return
		}
		for i, o := range list {
			if !slices.Contains(offered, o.Channel) || !slices.Contains(customers.OptOutKinds, o.Kind) {
				t.Fatalf("%q gave unknown box %v", form, o)
			}
			if slices.Contains(list[:i], o) {
				t.Fatalf("%q gave %v twice", form, o)
			}
		}
	})
}
