package email

import (
	"bufio"
	"io"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
)

// scan collects what ParseInbound needs from a message's MIME tree.
type scan struct {
	parts      int
	reportType string              // multipart/report; report-type=…
	plain      string              // first inline text/plain part
	html       string              // first inline text/html part
	dsn        []map[string]string // message/delivery-status field blocks
	returnedID string              // Message-ID of the returned original
}

// visit walks e. Inside a report, text parts are the MTA's explanation,
// not a customer's words, and an embedded message is read for its headers
// only.
func (s *scan) visit(e *message.Entity, depth int, inReport bool) {
	s.parts++
	if s.parts > maxParts || depth > maxDepth {
		return
	}
	mediaType, params, _ := e.Header.ContentType()
	if mr := e.MultipartReader(); mr != nil {
		if mediaType == "multipart/report" && s.reportType == "" {
			s.reportType = strings.ToLower(params["report-type"])
			inReport = true
		}
		for s.parts <= maxParts {
			p, err := mr.NextPart()
			if p == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
				return
			}
			s.visit(p, depth+1, inReport)
		}
		return
	}
	switch mediaType {
	case "message/delivery-status", "message/global-delivery-status":
		if s.dsn == nil {
			s.dsn = parseFieldBlocks(readPart(e.Body))
		}
	case "text/rfc822-headers", "message/rfc822-headers", "message/rfc822", "message/global":
		if s.returnedID == "" && inReport {
			s.returnedID = returnedMessageID(e.Body)
		}
	case "text/plain", "text/html", "":
		if disp, _, _ := e.Header.ContentDisposition(); disp == "attachment" {
			return
		}
		if mediaType == "text/html" {
			if s.html == "" {
				s.html = readPart(e.Body)
			}
		} else if s.plain == "" {
			s.plain = readPart(e.Body)
		}
	}
}

// readPart reads a decoded part as valid UTF-8, up to maxPartBytes; a
// broken encoding keeps what decoded before the break.
func readPart(r io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxPartBytes))
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// returnedMessageID reads the header block of a returned message.
func returnedMessageID(r io.Reader) string {
	e, err := message.Read(bufio.NewReader(io.LimitReader(r, maxPartBytes)))
	if e == nil || (err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err)) {
		return ""
	}
	h := mail.Header{Header: e.Header}
	id, err := h.MessageID()
	if err != nil {
		return ""
	}
	return id
}

// maxFieldBytes bounds an unfolded delivery-status field.
const maxFieldBytes = 4 << 10

// parseFieldBlocks parses the "Name: value" blocks of a delivery-status
// body (RFC 3464), separated by blank lines; names are lowercased and
// folded lines unfolded.
func parseFieldBlocks(body string) []map[string]string {
	blocks := []map[string]string{}
	cur := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n") {
		switch {
		case strings.TrimSpace(line) == "":
			if len(cur) > 0 {
				blocks = append(blocks, cur)
				cur, last = map[string]string{}, ""
			}
		case (line[0] == ' ' || line[0] == '\t') && last != "":
			if len(cur[last]) < maxFieldBytes { // bounded: folding must not go quadratic
				cur[last] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			if _, dup := cur[last]; !dup {
				cur[last] = strings.TrimSpace(value)
			}
		}
		if len(blocks) > 100 {
			break
		}
	}
	if len(cur) > 0 {
		blocks = append(blocks, cur)
	}
	return blocks
}
