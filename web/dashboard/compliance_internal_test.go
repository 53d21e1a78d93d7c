package dashboard

import (
	"slices"
	"strings"
	"testing"
)

func TestCustomerLines(t *testing.T) {
	got := customerLines(" 01J0000000000000000000000A\r\n\n138 1234 5678，139 0000 1111, ")
	want := []string{"01J0000000000000000000000A", "138 1234 5678", "139 0000 1111"}
	if !slices.Equal(got, want) {
		t.Fatalf("customerLines = %q, want %q", got, want)
	}
}

// FuzzCustomerLines: any text splits into trimmed, non-empty lines with
// no separator left in them.
func FuzzCustomerLines(f *testing.F) {
	f.Add("01J0000000000000000000000A\n138 1234 5678")
	f.Add("，,\n \t")
	f.Fuzz(func(t *testing.T, text string) {
		for _, line := range customerLines(text) {
			if line == "" || line != strings.TrimSpace(line) || strings.ContainsAny(line, "\n,，") {
				t.Fatalf("line %q from %q", line, text)
			}
		}
	})
}

func TestParseTrainingForm(t *testing.T) {
	f := trainingForm{Role: "agent", Title: "保护", Body: "正文", PassScore: " 90 ", Questions: []questionForm{
		{Q: "何时？", Options: "随时\n\n 需要时 \n", Answer: "2"}, {}, {Q: " ", Options: " "}}}
	m, err := parseTrainingForm(f)
	if err != nil {
		t.Fatal(err)
	}
	if m.PassScore != 90 || m.PeriodDays != 0 || len(m.Questions) != 1 || m.Questions[0].Answer != 1 ||
		!slices.Equal(m.Questions[0].Options, []string{"随时", "需要时"}) {
		t.Fatalf("module = %+v", m)
	}
	for _, bad := range []trainingForm{{PassScore: "九十"}, {Questions: []questionForm{{Q: "何时？", Options: "a\nb", Answer: "x"}}}} {
		if _, err := parseTrainingForm(bad); err == nil {
			t.Errorf("%+v parsed", bad)
		}
	}
}

// FuzzParseTrainingForm: whatever the form holds, parsing does not panic,
// and a parsed question has no blank option and its answer counted from 0.
func FuzzParseTrainingForm(f *testing.F) {
	f.Add("80", "365", "何时？", "随时\n需要时", "2")
	f.Add("", "", "", "", "")
	f.Add("-1", "99999999999999999999", "q", "\n\n", "0")
	f.Fuzz(func(t *testing.T, pass, period, q, options, answer string) {
		m, err := parseTrainingForm(trainingForm{Role: "agent", Title: "t", Body: "b", PassScore: pass, PeriodDays: period,
			Questions: []questionForm{{Q: q, Options: options, Answer: answer}}})
		if err != nil {
			return
		}
		for _, qn := range m.Questions {
			if slices.Contains(qn.Options, "") {
				t.Fatalf("blank option in %q", qn.Options)
			}
		}
	})
}
