package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEmbed runs the example as a user would and checks that the counter
// answered the typed call with its total.
func TestEmbed(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "embed")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-manifest", filepath.Join("..", "counter", "counter.toml"))
	cmd.Env = append(cmd.Environ(), "XDG_CACHE_HOME="+t.TempDir())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("embed: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "total: 5" {
		t.Fatalf("output %q, want %q", got, "total: 5")
	}
}

// TestMainIsShort keeps the example what the README promises: embedding
// takes under 20 lines of Go in main.
func TestMainIsShort(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "main.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == "main" {
			lines := fset.Position(fn.Body.Rbrace).Line - fset.Position(fn.Body.Lbrace).Line - 1
			if lines >= 20 {
				t.Errorf("main has %d lines, want under 20", lines)
			}
			return
		}
	}
	t.Fatal("no func main")
}
