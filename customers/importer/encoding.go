package importer

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/handoverhq/handover"
)

// The text encodings a CSV file can be read in. EncodingAuto decides from
// the file: a UTF-8 byte-order mark, else how many lines are valid UTF-8.
const (
	EncodingAuto    = "auto"
	EncodingUTF8    = "utf-8"
	EncodingGB18030 = "gb18030"
)

// ParseEncoding reads an encoding name: "" or auto, utf-8 (utf8), gb18030
// (gbk and gb2312 are subsets of it).
func ParseEncoding(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", EncodingAuto:
		return EncodingAuto, nil
	case EncodingUTF8, "utf8":
		return EncodingUTF8, nil
	case EncodingGB18030, "gbk", "gb2312", "gb-18030":
		return EncodingGB18030, nil
	}
	return "", handover.Errorf(handover.EINVALID, "encoding must be auto, utf-8 or gb18030")
}

// textEvidence counts, over a file's non-empty lines, those with non-ASCII
// text that is valid UTF-8 and those that are not valid UTF-8.
type textEvidence struct {
	lines, utf8, invalid int64
}

// readEvidence reads r to the end, line by line ('\n' is never part of a
// multi-byte character in UTF-8 or GB18030), and reports whether it holds
// NUL bytes (a binary file).
func readEvidence(r io.Reader) (ev textEvidence, binary bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var carry []byte // an incomplete character held back from a long line's fragment
	nonASCII, bad, empty := false, false, true
	for {
		frag, rerr := br.ReadSlice('\n')
		if bytes.IndexByte(frag, 0) >= 0 {
			return ev, true, nil
		}
		buf := frag
		if len(carry) > 0 {
			buf = append(carry, frag...)
		}
		endOfLine := rerr == nil || rerr == io.EOF
		cut := len(buf)
		if !endOfLine {
			cut = completeRunes(buf)
		}
		part := buf[:cut]
		if !bad && !utf8.Valid(part) {
			bad = true
		}
		if !nonASCII && hasNonASCII(part) {
			nonASCII = true
		}
		if empty && len(bytes.TrimSpace(part)) > 0 {
			empty = false
		}
		carry = append([]byte(nil), buf[cut:]...)
		if endOfLine {
			if !empty {
				ev.lines++
				switch {
				case bad:
					ev.invalid++
				case nonASCII:
					ev.utf8++
				}
			}
			nonASCII, bad, empty = false, false, true
		}
		switch {
		case rerr == io.EOF:
			return ev, false, nil
		case rerr != nil && rerr != bufio.ErrBufferFull:
			return ev, false, rerr
		}
	}
}

// completeRunes is the length of buf without an incomplete UTF-8
// character at its end.
func completeRunes(buf []byte) int {
	for i := len(buf) - 1; i >= 0 && i >= len(buf)-utf8.UTFMax; i-- {
		if utf8.RuneStart(buf[i]) {
			if !utf8.FullRune(buf[i:]) {
				return i
			}
			break
		}
	}
	return len(buf)
}

func hasNonASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

// chooseEncoding decides a CSV file's encoding from the evidence. UTF-8
// unless the file is clearly GB18030 (most lines are not UTF-8 and almost
// none with non-ASCII text are): reading a GB18030 file as UTF-8 rejects
// its rows visibly, while reading UTF-8 as GB18030 would import garbled
// names without a word. A mix of both is refused: the caller says which.
func chooseEncoding(ev textEvidence) (string, error) {
	switch {
	case ev.invalid == 0:
		return EncodingUTF8, nil
	case ev.utf8*20 <= ev.invalid && ev.invalid*2 >= ev.lines:
		return EncodingGB18030, nil
	case ev.utf8 >= ev.invalid*4 || ev.invalid*2 < ev.lines:
		return EncodingUTF8, nil
	}
	return "", fileError("cannot tell the file's text encoding: %d lines read as UTF-8 and %d do not; "+
		"save it as CSV UTF-8, or give the encoding (utf-8 or gb18030); nothing was imported", ev.utf8, ev.invalid)
}

// cellDecoder turns a row's raw cells into text in the file's encoding,
// and says why a row is not valid in it. A row is never transcoded by
// guesswork: an invalid one is rejected, whole.
type cellDecoder struct {
	gb *encoding.Decoder // nil: the file is UTF-8
}

func newCellDecoder(enc string) *cellDecoder {
	d := &cellDecoder{}
	if enc == EncodingGB18030 {
		d.gb = simplifiedchinese.GB18030.NewDecoder()
	}
	return d
}

// decode rewrites cells in place; the reason is "" for a valid row.
func (d *cellDecoder) decode(cells []string) (reason string) {
	for i, cell := range cells {
		if d.gb == nil {
			if !utf8.ValidString(cell) {
				return "the row is not valid UTF-8 text (the file is read as UTF-8); fix the row or give the file's encoding"
			}
			continue
		}
		// Non-ASCII text that is valid UTF-8 is almost never GB18030.
		if utf8.ValidString(cell) && strings.ContainsFunc(cell, func(r rune) bool { return r >= utf8.RuneSelf }) {
			return "the row reads as UTF-8 in a file read as GB18030; save the whole file in one encoding"
		}
		text, err := d.gb.String(cell)
		if err != nil || strings.ContainsRune(text, utf8.RuneError) {
			return "the row is not valid GB18030 text (the file is read as GB18030); fix the row or give the file's encoding"
		}
		cells[i] = text
	}
	return ""
}
