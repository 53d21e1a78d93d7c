package handover

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/handoverhq/handover/locales"
)

func TestLocalizedMessage(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", Errorf(EINVALID, "Only a pending request can be approved; this one is %s.", "x"))
	if got := ErrorMessage(err); got != "Only a pending request can be approved; this one is x." {
		t.Errorf("English message = %q", got)
	}
	if got := LocalizedMessage(locales.Chinese, err); got != "只有待审核的申请可以批准；该申请状态为 x。" {
		t.Errorf("zh-CN = %q", got)
	}
	if got := LocalizedMessage(locales.English, err); got != ErrorMessage(err) {
		t.Errorf("en = %q", got)
	}
	// A state code passed as a value is worded as well.
	state := Errorf(ECONFLICT, "The campaign is %s; it cannot become %s.", "completed", "running")
	if got := LocalizedMessage(locales.Chinese, state); got != "该活动当前状态为已完成，无法变为进行中。" {
		t.Errorf("zh-CN states = %q", got)
	}
	if got := ErrorMessage(state); got != "The campaign is completed; it cannot become running." {
		t.Errorf("the API's message changed: %q", got)
	}
	// A message the catalog does not hold: English readers get it, the
	// others the words for its code, never English.
	odd := Errorf(ECONFLICT, "A message nobody translated (%d).", 3)
	if got := LocalizedMessage(locales.English, odd); got != "A message nobody translated (3)." {
		t.Errorf("en untranslated = %q", got)
	}
	if got := LocalizedMessage(locales.Chinese, odd); got != locales.T(locales.Chinese, "errors.code.conflict") {
		t.Errorf("zh-CN untranslated = %q", got)
	}
	if got := LocalizedMessage(locales.Chinese, errors.New("boom")); got != "系统内部错误。" {
		t.Errorf("zh-CN internal = %q", got)
	}
	for _, code := range []string{EINVALID, ENOTFOUND, ECONFLICT, EUNAUTHORIZED, EFORBIDDEN, ETOOLARGE, EUNAVAILABLE, ETOOMANY, EINTERNAL} {
		if !locales.Has(locales.Chinese, "errors.code."+code) {
			t.Errorf("code %s has no words", code)
		}
	}
}

// TestErrorsInCatalog: the catalog holds the text of the domain's errors,
// so pages show them in the reader's language. It lists every
// handover.Errorf format with no text in locales/errors.*.yaml and fails
// when more than a few lack one: add new messages to errors.en.yaml (the
// exact format) and errors.zh-CN.yaml.
func TestErrorsInCatalog(t *testing.T) {
	var missing []string
	total := 0
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 || !isErrorf(call.Fun, f.Name.Name) {
				return true
			}
			lit, ok := call.Args[1].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			format, _ := strconv.Unquote(lit.Value)
			if strings.Trim(format, "%s") == "" {
				return true // passes another message through
			}
			total++
			if locales.ErrorKey(format) == "" {
				missing = append(missing, fmt.Sprintf("%s: %q", fset.Position(call.Pos()), format))
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range missing {
		t.Logf("no catalog text: %s", m)
	}
	if total < 300 {
		t.Fatalf("found only %d error formats", total)
	}
	// A little slack for work in flight; the log above names what to add.
	if len(missing) > total/20 {
		t.Errorf("%d of %d error messages have no text in locales/errors.*.yaml", len(missing), total)
	}
}

func isErrorf(fun ast.Expr, pkg string) bool {
	switch f := fun.(type) {
	case *ast.SelectorExpr:
		x, ok := f.X.(*ast.Ident)
		return ok && x.Name == "handover" && f.Sel.Name == "Errorf"
	case *ast.Ident:
		return pkg == "handover" && f.Name == "Errorf"
	}
	return false
}
