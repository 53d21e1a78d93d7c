package templates

import (
	"errors"
	htmltemplate "html/template"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"text/template/parse"

	"github.com/handoverhq/handover"
	"github.com/handoverhq/handover/channels"
)

// maxOutput bounds what one part of a message may render to, so a template
// such as {{printf "%0999999d" 1}} cannot exhaust memory.
const maxOutput = 64 << 10

// Rendered is a message ready for a channel.
type Rendered struct {
	Subject string
	// Text is the plain text: for SMS the approved text with its params
	// filled in, as the customer's phone shows it; for SMS and devbox with
	// a sign name it starts with the sign name in 【】.
	Text string
	HTML string
	// Provider is what the provider's approved template needs (SMS sign
	// name, code and params; WeChat template id and fields); nil for email
	// and devbox.
	Provider *channels.Template
}

// ref is one variable a template part names.
type ref struct {
	path string // e.g. ".Customer.Name"
	loc  string // e.g. "body line 2"
	// printed is true when the part prints the variable bare, outside any
	// if/with and not through a function: then it must not be empty. {{or
	// .Customer.Company "贵司"}} is how a template allows it to be empty.
	printed bool
}

// part is one parsed template part: subject, body, html, or a mapping entry.
type part struct {
	name string
	text *template.Template
	html *htmltemplate.Template
	refs []ref
	// lastLen is the length of the latest output, what the next one
	// starts with room for.
	lastLen atomic.Int64
	// planned is set once the part was executed and plan read from the
	// tree it ran (fast.go); plan is nil when the part has none.
	planned  atomic.Bool
	planOnce sync.Once
	plan     []segment
}

// compiled is a version parsed once, ready to render many times.
type compiled struct {
	v       Version
	subject *part
	body    *part
	html    *part
	params  []*part // SMS params or WeChat fields, sorted by name
	// approved is an SMS version's approved text, split at its ${vars}.
	approved []approvedSeg
}

// compile parses every part of v and walks the trees for the variables they
// name. Unknown variables and unsupported actions are EINVALID errors
// naming the part, line and variable.
func compile(v *Version) (*compiled, error) {
	c := &compiled{v: *v}
	var err error
	if v.Channel == channels.SMS {
		// Aliyun sends the approved text, not a template of ours.
		c.approved, c.body = parseApproved(v.Body), &part{name: "body"}
	} else if c.body, err = parsePart("body", v.Body, false); err != nil {
		return nil, err
	}
	if v.Subject != "" {
		if c.subject, err = parsePart("subject", v.Subject, false); err != nil {
			return nil, err
		}
	}
	if v.HTMLBody != "" {
		if c.html, err = parsePart("html_body", v.HTMLBody, true); err != nil {
			return nil, err
		}
	}
	mapping, prefix := v.SMS.Params, "params."
	if v.Channel == channels.WeChat {
		mapping, prefix = v.WeChat.Fields, "fields."
	}
	names := make([]string, 0, len(mapping))
	for name := range mapping {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p, err := parsePart(prefix+name, mapping[name], false)
		if err != nil {
			return nil, err
		}
		c.params = append(c.params, p)
	}
	if c.approved != nil {
		c.body.refs = allRefs(c.params)
	}
	return c, nil
}

func parsePart(name, src string, html bool) (*part, error) {
	p := &part{name: name}
	var tree *parse.Tree
	var count int
	if html {
		t, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, parseError(err)
		}
		p.html, tree, count = t, t.Tree, len(t.Templates())
	} else {
		t, err := template.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, parseError(err)
		}
		p.text, tree, count = t, t.Tree, len(t.Templates())
	}
	if count > 1 {
		return nil, handover.Errorf(handover.EINVALID, "%s: {{define}} and {{block}} are not supported", name)
	}
	if tree == nil || tree.Root == nil {
		return p, nil
	}
	w := walker{tree: tree}
	w.node(tree.Root, "", true)
	if w.err != nil {
		return nil, w.err
	}
	p.refs = w.refs
	return p, nil
}

// parseError turns a parser's message into a user's: part, line, problem.
func parseError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "template: ")
	return handover.Errorf(handover.EINVALID, "%s", friendlyLoc(msg))
}

// friendlyLoc rewrites a leading "body:3:" as "body line 3:".
func friendlyLoc(msg string) string {
	name, rest, ok := strings.Cut(msg, ":")
	if !ok {
		return msg
	}
	line, rest2, ok := strings.Cut(rest, ":")
	if !ok || line == "" || strings.Trim(line, "0123456789") != "" {
		return msg
	}
	// Drop a column number if there is one.
	if col, rest3, ok := strings.Cut(rest2, ":"); ok && col != "" && strings.Trim(col, "0123456789") == "" {
		rest2 = rest3
	}
	return name + " line " + line + ":" + rest2
}

// walker collects the variables a parse tree names. dot is the variable
// path "." stands for ("" is the root, "?" unknown).
type walker struct {
	tree *parse.Tree
	refs []ref
	err  error
}

func (w *walker) fail(n parse.Node, format string, args ...any) {
	if w.err == nil {
		w.err = handover.Errorf(handover.EINVALID, "%s: "+format, append([]any{w.location(n)}, args...)...)
	}
}

// location names where n is, as "body line 3".
func (w *walker) location(n parse.Node) string {
	loc, _ := w.tree.ErrorContext(n)
	return strings.TrimSuffix(friendlyLoc(loc+":"), ":")
}

func (w *walker) node(n parse.Node, dot string, top bool) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.node(c, dot, top)
		}
	case *parse.ActionNode:
		bare := len(n.Pipe.Decl) == 0 && len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1
		w.pipe(n.Pipe, dot, top && bare)
	case *parse.IfNode:
		w.pipe(n.Pipe, dot, false)
		w.node(n.List, dot, false)
		w.node(n.ElseList, dot, false)
	case *parse.WithNode:
		inner := "?"
		if len(n.Pipe.Cmds) == 1 && len(n.Pipe.Cmds[0].Args) == 1 {
			if f, ok := n.Pipe.Cmds[0].Args[0].(*parse.FieldNode); ok && dot != "?" {
				inner = dot + "." + strings.Join(f.Ident, ".")
			}
		}
		// {{with .Customer}} only sets dot; anything else is a reference.
		if inner != ".Customer" && inner != ".Transfer" {
			w.pipe(n.Pipe, dot, false)
		}
		w.node(n.List, inner, false)
		w.node(n.ElseList, dot, false)
	case *parse.RangeNode:
		w.fail(n, "{{range}} is not supported (no variable is a list)")
	case *parse.TemplateNode:
		w.fail(n, "{{template}} is not supported")
	}
}

func (w *walker) pipe(p *parse.PipeNode, dot string, printed bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			w.arg(arg, dot, printed)
		}
	}
}

func (w *walker) arg(a parse.Node, dot string, printed bool) {
	switch a := a.(type) {
	case *parse.FieldNode:
		if dot != "?" {
			w.ref(a, dot+"."+strings.Join(a.Ident, "."), printed)
		}
	case *parse.VariableNode:
		if a.Ident[0] == "$" && len(a.Ident) > 1 {
			w.ref(a, "."+strings.Join(a.Ident[1:], "."), printed)
		}
	case *parse.PipeNode:
		w.pipe(a, dot, false)
	case *parse.ChainNode:
		w.arg(a.Node, dot, false)
	}
}

// ref records path, refusing paths outside the data model.
func (w *walker) ref(n parse.Node, path string, printed bool) {
	if !slices.Contains(Variables, path) {
		w.fail(n, "unknown variable %s (use one of %s)", path, strings.Join(Variables, " "))
		return
	}
	w.refs = append(w.refs, ref{path: path, loc: w.location(n), printed: printed})
}

// render renders c with data. A variable printed bare that is empty in data
// is an EINVALID error naming it, never the data.
func (c *compiled) render(data *Data) (*Rendered, error) {
	r := &Rendered{}
	var err error
	if r.Subject, err = c.subject.exec(data); err != nil {
		return nil, err
	}
	if c.approved == nil {
		if r.Text, err = c.body.exec(data); err != nil {
			return nil, err
		}
	}
	if r.HTML, err = c.html.exec(data); err != nil {
		return nil, err
	}
	switch c.v.Channel {
	case channels.SMS:
		r.Provider = &channels.Template{SignName: c.v.SMS.SignName, TemplateCode: c.v.SMS.TemplateCode}
	case channels.WeChat:
		r.Provider = &channels.Template{TemplateID: c.v.WeChat.TemplateID, Subscribe: c.v.WeChat.Subscribe}
	}
	if r.Provider != nil && len(c.params) > 0 {
		r.Provider.Params = make(map[string]string, len(c.params))
		for _, p := range c.params {
			s, err := p.exec(data)
			if err != nil {
				return nil, err
			}
			_, key, _ := strings.Cut(p.name, ".")
			r.Provider.Params[key] = s
		}
	}
	if c.approved != nil {
		var values map[string]string
		if r.Provider != nil {
			values = r.Provider.Params
		}
		r.Text = fill(c.approved, values)
	}
	if (c.v.Channel == channels.SMS || c.v.Channel == channels.Devbox) && c.v.SMS.SignName != "" {
		r.Text = "【" + c.v.SMS.SignName + "】" + r.Text
	}
	return r, nil
}

func (p *part) exec(data *Data) (string, error) {
	if p == nil {
		return "", nil
	}
	for _, rf := range p.refs {
		if v, _ := data.value(rf.path); rf.printed && strings.TrimSpace(v) == "" {
			return "", handover.Errorf(handover.EINVALID,
				"%s uses %s, which is empty for this recipient (write {{or %s \"…\"}} to allow that)", rf.loc, rf.path, rf.path)
		}
	}
	var b limitedBuilder
	// Room for what the part rendered last time: the output is built
	// without growing it step by step.
	b.Grow(int(p.lastLen.Load()))
	if p.planned.Load() && p.plan != nil && run(p.plan, data, &b.Builder) {
		p.lastLen.Store(int64(b.Len()))
		return b.String(), nil
	}
	b.Reset()
	b.Grow(int(p.lastLen.Load()))
	var err error
	if p.html != nil {
		err = p.html.Execute(&b, data)
	} else {
		err = p.text.Execute(&b, data)
	}
	if errors.Is(err, errTooLong) {
		return "", handover.Errorf(handover.EINVALID, "%s renders to more than %d KB", p.name, maxOutput>>10)
	} else if err != nil {
		return "", handover.Errorf(handover.EINVALID, "%s", friendlyLoc(strings.TrimPrefix(err.Error(), "template: ")))
	}
	p.lastLen.Store(int64(b.Len()))
	if !p.planned.Load() {
		// Read after an Execute: html/template escapes the tree then.
		p.planOnce.Do(func() {
			if p.html != nil {
				p.plan = planPart(p.html.Tree, true)
			} else {
				p.plan = planPart(p.text.Tree, false)
			}
			p.planned.Store(true)
		})
	}
	return b.String(), nil
}

var errTooLong = errors.New("rendered text too long")

// limitedBuilder is a strings.Builder that refuses to grow past maxOutput.
type limitedBuilder struct{ strings.Builder }

func (b *limitedBuilder) Write(p []byte) (int, error) {
	if b.Len()+len(p) > maxOutput {
		return 0, errTooLong
	}
	return b.Builder.Write(p)
}

var _ io.Writer = (*limitedBuilder)(nil)
