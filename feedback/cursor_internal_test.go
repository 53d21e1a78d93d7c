package feedback

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzParseCursor: any cursor a client sends either parses or is refused
// as invalid input, and a cursor the queue made parses back to its parts.
func FuzzParseCursor(f *testing.F) {
	made := base64.RawURLEncoding.EncodeToString([]byte("2026-11-23T02:00:00.123456Z|01JDEFAULTRULE0000000OPTOUT"))
	for _, s := range []string{made, "", "bad", "fA", base64.RawURLEncoding.EncodeToString([]byte("|")), "////"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		due, id, err := parseCursor(cursor)
		if err != nil {
			return
		}
		again := base64.RawURLEncoding.EncodeToString([]byte(due.Format(time.RFC3339Nano) + "|" + id))
		if d2, id2, err := parseCursor(again); err != nil || !d2.Equal(due) || id2 != id {
			t.Fatalf("cursor %q did not round-trip: %v", cursor, err)
		}
	})
}
