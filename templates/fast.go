package templates

import (
	"strings"
	"text/template/parse"
)

// A part's fast plan renders it without executing the template: most
// templates are text with variables printed bare or through {{or}}, and
// executing them (reflection on every field, every escaper called through
// reflection) cost a campaign worker about a third of its CPU. The plan is
// read from the tree the template was executed with (for html/template,
// the escaped tree: its text as it is written out, and the escapers each
// action ends with), so it writes what Execute writes. A template with any
// other action, or a value an escaper would change, renders the slow way.

// segment is one piece of a fast plan: fixed text, or a value.
type segment struct {
	text string
	// args are the value's {{or}} arguments in order (one for a bare
	// variable); nil for fixed text.
	args []fastArg
	esc  escaper
}

// fastArg is a variable path or a string literal.
type fastArg struct {
	path string // "" for a literal
	lit  string
}

// escaper is what html/template does to a value printed in a context.
type escaper int

const (
	escNone escaper = iota // text/template: printed as is
	escHTML                // HTML text or a quoted attribute value
	escURL                 // a quoted URL attribute value (href, src)
)

// planPart reads a part's fast plan from its executed tree, or returns nil
// when the part has anything a plan does not handle.
func planPart(tree *parse.Tree, html bool) []segment {
	if tree == nil || tree.Root == nil {
		return nil
	}
	var plan []segment
	for _, n := range tree.Root.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			plan = append(plan, segment{text: string(n.Text)})
		case *parse.ActionNode:
			s, ok := planAction(n.Pipe, html)
			if !ok {
				return nil
			}
			plan = append(plan, s)
		default:
			return nil
		}
	}
	return plan
}

// escapers maps the escaper chains html/template ends an action with to
// what a plan does for them.
var escapers = map[string]escaper{
	"_html_template_htmlescaper": escHTML,
	"_html_template_attrescaper": escHTML,
	"_html_template_urlfilter _html_template_urlnormalizer _html_template_attrescaper": escURL,
}

func planAction(p *parse.PipeNode, html bool) (segment, bool) {
	if p == nil || len(p.Decl) > 0 || p.IsAssign || len(p.Cmds) == 0 {
		return segment{}, false
	}
	s := segment{esc: escNone}
	if html {
		var chain []string
		for _, c := range p.Cmds[1:] {
			id, ok := c.Args[0].(*parse.IdentifierNode)
			if !ok || len(c.Args) != 1 {
				return segment{}, false
			}
			chain = append(chain, id.Ident)
		}
		esc, ok := escapers[strings.Join(chain, " ")]
		if !ok {
			return segment{}, false
		}
		s.esc = esc
	} else if len(p.Cmds) != 1 {
		return segment{}, false
	}
	args := p.Cmds[0].Args
	if id, ok := args[0].(*parse.IdentifierNode); ok && id.Ident == "or" && len(args) > 1 {
		args = args[1:]
	} else if len(args) != 1 {
		return segment{}, false
	}
	for _, a := range args {
		switch a := a.(type) {
		case *parse.FieldNode:
			path := "." + strings.Join(a.Ident, ".")
			if _, ok := (&Data{}).value(path); !ok {
				return segment{}, false
			}
			s.args = append(s.args, fastArg{path: path})
		case *parse.StringNode:
			s.args = append(s.args, fastArg{lit: a.Text})
		default:
			return segment{}, false
		}
	}
	return s, true
}

// run writes the plan with data into b, or reports false when a value
// would be escaped (the slow way writes it then) or the output grows past
// maxOutput.
func run(plan []segment, data *Data, b *strings.Builder) bool {
	for _, s := range plan {
		if s.args == nil {
			b.WriteString(s.text)
			continue
		}
		// {{or}}: the first non-empty argument, else the last.
		var v string
		for _, a := range s.args {
			v = a.lit
			if a.path != "" {
				v, _ = data.value(a.path)
			}
			if v != "" {
				break
			}
		}
		if !unescaped(s.esc, v) {
			return false
		}
		b.WriteString(v)
	}
	return b.Len() <= maxOutput
}

// unescaped reports whether esc leaves v as it is. html/template's HTML
// and attribute escapers change only NUL and "&'+<>; a URL attribute's
// filter passes an http(s) URL and its normalizer and escaper leave
// letters, digits and -._~:/?=# alone.
func unescaped(esc escaper, v string) bool {
	switch esc {
	case escNone:
		return true
	case escHTML:
		return !strings.ContainsAny(v, "\x00\"&'+<>")
	case escURL:
		if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			return false
		}
		for i := 0; i < len(v); i++ {
			c := v[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~:/?=#", c) >= 0) {
				return false
			}
		}
		return true
	}
	return false
}
