package email

import (
	"regexp"
	"strings"

	"golang.org/x/net/html"
)

// htmlToText renders HTML as plain text: block elements become line
// breaks, script, style and quoted (blockquote) content is dropped.
func htmlToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b strings.Builder
	skip := 0 // depth inside script, style, head or blockquote
	for {
		switch z.Next() {
		case html.ErrorToken: // io.EOF, or malformed input: keep what was read
			return tidyLines(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "blockquote", "title":
				skip++
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "blockquote", "title":
				if skip > 0 {
					skip--
				}
			case "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table":
				b.WriteByte('\n')
			}
		}
	}
}

// tidyLines collapses runs of blanks inside lines and drops empty lines:
// HTML blocks become one line each.
func tidyLines(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	for _, l := range lines {
		if l = strings.Join(strings.Fields(strings.ReplaceAll(l, "\u00a0", " ")), " "); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

var (
	// A reply header line ends the new text: "On … wrote:" (Gmail, Apple
	// Mail, Thunderbird), "在 … 写道：" (Chinese clients), Outlook and
	// Foxmail separators.
	replyHeaderRe = regexp.MustCompile(`(?i)^(On\s.+\swrote:|在.+写道[:：]|-{2,}\s*(Original Message|原始邮件|回复的原邮件|Forwarded message|转发邮件)\s*-{2,}.*|发件人\s*[:：].*)$`)
	// An Outlook-style "From:" line (or the underscores above it) ends the
	// text when a header block follows.
	fromLineRe   = regexp.MustCompile(`(?i)^\*?(From|De|Von)\s*:\*?\s`)
	separatorRe  = regexp.MustCompile(`^_{10,}$`)
	headerNextRe = regexp.MustCompile(`(?i)^\*?(Sent|Date|To|Subject|Cc|发送时间|日期|收件人|主题)\s*[:：]`)
)

// trimQuoted returns the new text of a reply: quoted lines (">") are
// dropped and everything from the first reply header on is cut. A reply
// that is nothing but quotation is returned whole, tidied.
func trimQuoted(body string) string {
	lines := strings.Split(strings.ReplaceAll(body, "\r\n", "\n"), "\n")
	var kept []string
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if strings.HasPrefix(line, ">") {
			continue
		}
		if isReplyHeader(lines, i) {
			break
		}
		kept = append(kept, strings.TrimRight(lines[i], " \t"))
	}
	text := strings.TrimSpace(strings.Join(kept, "\n"))
	if text == "" {
		return strings.TrimSpace(body)
	}
	return text
}

// isReplyHeader says whether lines[i] starts the quoted part. Gmail wraps
// a long "On … wrote:" over two lines, so a line is also joined with the
// next one.
func isReplyHeader(lines []string, i int) bool {
	line := strings.TrimSpace(lines[i])
	if line == "" {
		return false
	}
	if replyHeaderRe.MatchString(line) {
		return true
	}
	if i+1 >= len(lines) {
		return false
	}
	next := strings.TrimSpace(lines[i+1])
	switch {
	case strings.HasPrefix(line, "On ") || strings.HasPrefix(line, "在"):
		return replyHeaderRe.MatchString(line + " " + next)
	case fromLineRe.MatchString(line):
		return headerNextRe.MatchString(next)
	case separatorRe.MatchString(line):
		return fromLineRe.MatchString(next) || replyHeaderRe.MatchString(next)
	}
	return false
}
