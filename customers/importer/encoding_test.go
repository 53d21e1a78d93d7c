package importer

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// FuzzReadEvidence checks the streaming line classifier against a plain
// one over the whole input (long lines cross the reader's 64 KB buffer),
// and that a valid UTF-8 file is always read as UTF-8.
func FuzzReadEvidence(f *testing.F) {
	f.Add([]byte("姓名,手机\n王小明,138\n"), 0)
	f.Add([]byte("a\n张\xff三\n\n  \nb"), 70000)
	f.Add([]byte("\xd5\xc5\xc8\xfd\r\n"), 65535)
	f.Fuzz(func(t *testing.T, data []byte, pad int) {
		if pad < 0 || pad > 1<<18 {
			pad = 0
		}
		// Padding moves a character across the buffer boundary.
		data = append(bytes.Repeat([]byte{'x'}, pad), data...)
		got, binary, err := readEvidence(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if binary != (bytes.IndexByte(data, 0) >= 0) {
			t.Fatalf("binary = %v", binary)
		}
		if binary {
			return
		}
		var want textEvidence
		for _, line := range bytes.Split(data, []byte{'\n'}) {
			if len(bytes.TrimSpace(line)) == 0 {
				continue
			}
			want.lines++
			switch {
			case !utf8.Valid(line):
				want.invalid++
			case hasNonASCII(line):
				want.utf8++
			}
		}
		if got != want {
			t.Fatalf("evidence %+v, want %+v", got, want)
		}
		if enc, err := chooseEncoding(got); utf8.Valid(data) && (err != nil || enc != EncodingUTF8) {
			t.Fatalf("valid UTF-8 read as %q, %v", enc, err)
		}
	})
}
