package audit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"moat/app/audit"
)

// Every action Moat emits is in the registry, so the trail's filter, the timeline and the export
// know it: in Go it must be one of the audit package's constants (a string literal where an
// action is expected fails here, and an unregistered action fails Record at run time), and an
// action the migrations' functions write must be registered too.
func TestEveryEmittedActionIsRegistered(t *testing.T) {
	seen := map[audit.Action]bool{}
	prefixes := map[string]bool{}
	for _, m := range audit.Actions() {
		if seen[m.Action] || m.Entity == "" || m.Label == "" || m.Kind == "" {
			t.Errorf("registry entry %+v is repeated or incomplete", m)
		}
		seen[m.Action] = true
		prefixes[strings.SplitN(string(m.Action), ".", 2)[0]] = true
	}
	root := moduleRoot(t)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")):
			return filepath.SkipDir
		case strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_templ.go"):
			checkGo(t, path)
		case strings.HasSuffix(path, ".sql"):
			checkSQL(t, path, prefixes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkGo fails on a string literal given as an event's Action, or converted to an Action
// outside the audit package.
func checkGo(t *testing.T, path string) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CompositeLit:
			if !isEvent(n.Type) {
				return true
			}
			for _, el := range n.Elts {
				kv, ok := el.(*ast.KeyValueExpr)
				if k, isIdent := kv.Key.(*ast.Ident); !ok || !isIdent || k.Name != "Action" {
					continue
				}
				if lit, ok := kv.Value.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					t.Errorf("%s: an event's Action %s is a string literal: use the audit package's constant", path, lit.Value)
				}
			}
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Action" {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "audit" && len(n.Args) == 1 {
					if lit, ok := n.Args[0].(*ast.BasicLit); ok {
						t.Errorf("%s: audit.Action(%s) makes an action outside the registry", path, lit.Value)
					}
				}
			}
		}
		return true
	})
}

// isEvent reports whether a composite literal's type is audit.Event (or Event, in the package).
func isEvent(typ ast.Expr) bool {
	switch typ := typ.(type) {
	case *ast.SelectorExpr:
		x, ok := typ.X.(*ast.Ident)
		return ok && x.Name == "audit" && typ.Sel.Name == "Event"
	case *ast.Ident:
		return typ.Name == "Event"
	}
	return false
}

var sqlAction = regexp.MustCompile(`'([a-z]+)\.([a-z_]+)'`)

// checkSQL fails on an action a migration writes that the registry lacks.
func checkSQL(t *testing.T, path string, prefixes map[string]bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range sqlAction.FindAllStringSubmatch(string(raw), -1) {
		if !prefixes[m[1]] {
			continue // app.tenant_id and the like
		}
		if _, ok := audit.Lookup(audit.Action(m[1] + "." + m[2])); !ok {
			t.Errorf("%s writes action %s.%s, which the registry lacks", path, m[1], m[2])
		}
	}
}

func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test")
		}
		dir = parent
	}
}
