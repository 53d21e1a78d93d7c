package staff

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestTOTPStep(t *testing.T) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Handover", AccountName: "a@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0)
	step := now.Unix() / 30
	for _, c := range []struct {
		name string
		at   time.Time
		want int64
	}{
		{"now", now, step},
		{"previous step", now.Add(-30 * time.Second), step - 1},
		{"next step", now.Add(30 * time.Second), step + 1},
		{"two steps late", now.Add(-60 * time.Second), 0},
		{"far ahead", now.Add(90 * time.Second), 0},
	} {
		code, _ := totp.GenerateCode(key.Secret(), c.at)
		if got := totpStep(key.Secret(), code, now); got != c.want {
			t.Errorf("%s: step %d, want %d", c.name, got, c.want)
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if totpStep(key.Secret(), bad, now) != 0 {
			t.Errorf("%q matched", bad)
		}
	}
}
