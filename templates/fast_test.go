package templates

import (
	"strings"
	"testing"
)

// slowExec is what Execute writes for p, the way before any plan.
func slowExec(t testing.TB, p *part, data *Data) (string, bool) {
	var b strings.Builder
	var err error
	if p.html != nil {
		err = p.html.Execute(&b, data)
	} else {
		err = p.text.Execute(&b, data)
	}
	return b.String(), err == nil
}

// checkPlan renders every part of c both ways with data: where the plan
// writes, it writes what Execute does.
func checkPlan(t testing.TB, name string, c *compiled, data *Data) (planned int) {
	parts := append([]*part{c.subject, c.body, c.html}, c.params...)
	for _, p := range parts {
		if p == nil || (p.text == nil && p.html == nil) {
			continue
		}
		want, ok := slowExec(t, p, data)
		if !ok {
			continue
		}
		var plan []segment
		if p.html != nil {
			plan = planPart(p.html.Tree, true)
		} else {
			plan = planPart(p.text.Tree, false)
		}
		if plan == nil {
			continue
		}
		planned++
		var b strings.Builder
		if run(plan, data, &b) && b.String() != want {
			t.Fatalf("%s %s: plan wrote\n%q\nExecute wrote\n%q", name, p.name, b.String(), want)
		}
	}
	return planned
}

var trickyData = []Data{
	SampleData("zh-CN"), SampleData("en"), {},
	{Customer: CustomerData{Name: `<b>"O'Brien" & co+</b>`, Company: "\x00"}, Link: `https://h.example.cn/l/a"b<c>`, LinkToken: `a"b`},
	{Customer: CustomerData{Name: "张三"}, Transfer: TransferData{BuyerName: "A&B", BuyerContact: "x+y@example.com"},
		Link: "javascript:alert(1)", LinkToken: "x"},
	{Customer: CustomerData{Name: " "}, Link: "https://h.example.cn/l/Ab3_-~.9?x=1#y", LinkToken: "Ab3_-~.9"},
	{Link: "HTTPS://H.EXAMPLE.CN/l/%41%zz é", LinkToken: "%41"},
}

// TestPlanWritesWhatExecuteWrites renders every shipped default both ways.
func TestPlanWritesWhatExecuteWrites(t *testing.T) {
	list, err := Defaults(samplePortal)
	if err != nil {
		t.Fatal(err)
	}
	planned := 0
	for _, tmpl := range list {
		v := tmpl.Latest()
		c, err := compile(&v)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range trickyData {
			planned += checkPlan(t, tmpl.DefaultKey, c, &d)
		}
	}
	if planned == 0 {
		t.Fatal("no default template has a fast plan")
	}
}

// TestRenderUsesPlan renders the default email notice twice (the first
// execution reads the plan) and checks both renders agree, and that a
// value the plan cannot write unescaped is still escaped.
func TestRenderUsesPlan(t *testing.T) {
	list, err := Defaults(samplePortal)
	if err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range list {
		if tmpl.DefaultKey != "transfer_notice/email/zh-CN" {
			continue
		}
		v := tmpl.Latest()
		c, err := compile(&v)
		if err != nil {
			t.Fatal(err)
		}
		d := SampleData("zh-CN")
		first, err := c.render(&d)
		if err != nil {
			t.Fatal(err)
		}
		if c.html.plan == nil || c.body.plan == nil || c.subject.plan == nil {
			t.Fatal("the default email notice has no fast plan")
		}
		second, err := c.render(&d)
		if err != nil || *first != *second {
			t.Fatalf("second render %+v, %v; first %+v", second, err, first)
		}
		d.Customer.Name = "<i>张</i>"
		r, err := c.render(&d)
		if err != nil || !strings.Contains(r.HTML, "&lt;i&gt;张&lt;/i&gt;") || !strings.Contains(r.Text, "<i>张</i>") {
			t.Fatalf("escaping: %+v, %v", r, err)
		}
		return
	}
	t.Fatal("no default email transfer notice")
}

// FuzzPlan renders arbitrary text and HTML templates both ways.
func FuzzPlan(f *testing.F) {
	for _, seed := range []string{
		`<a href="{{.Link}}">{{or .Customer.Name "客户"}}</a>`, `<p title="{{.Customer.Company}}">{{.Transfer.BuyerName}}</p>`,
		`<a href={{.Link}}>x</a>`, `<script>var a = "{{.Link}}"</script>`, `<a href="/x?q={{.LinkToken}}">`,
		`{{.Link | html}}`, `<style>{{.Customer.Name}}</style>`, `<textarea>{{.Customer.Name}}</textarea>`,
		`{{if .Customer.Name}}{{.Customer.Name}}{{end}}`, `<!-- {{.Link}} -->x`, `<a href="{{.Link}}#{{.LinkToken}}">`,
		`{{"lit"}}{{or "" .OptOut}}`, `<img srcset="{{.Link}}">`, `<a onclick="f({{.Link}})">`,
	} {
		f.Add(seed, "张三", "https://h.example.cn/l/Ab3")
		f.Add(seed, `<"&'+>`, "javascript:x")
	}
	f.Fuzz(func(t *testing.T, src, name, link string) {
		d := SampleData("zh-CN")
		d.Customer.Name, d.Link, d.LinkToken = name, link, linkToken(link)
		for _, html := range []bool{false, true} {
			p, err := parsePart("body", src, html)
			if err != nil {
				continue
			}
			c := &compiled{body: p}
			checkPlan(t, "fuzz", c, &d)
		}
	})
}
