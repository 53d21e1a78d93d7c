package masterkey

import "testing"

func TestParseRejectsBadKeys(t *testing.T) {
	for _, bad := range []string{"", "not base64!!", "c2hvcnQ="} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted a bad key", bad)
		}
	}
}

func TestGenerateParses(t *testing.T) {
	a, b := Generate(), Generate()
	if a == b {
		t.Fatal("two generated keys are equal")
	}
	key, err := Parse(a)
	if err != nil || len(key) != Size {
		t.Fatalf("Parse(Generate()) = %d bytes, %v", len(key), err)
	}
}
