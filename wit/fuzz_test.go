package wit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/theater-go/theater/wit"
)

// FuzzParse feeds arbitrary files to the resolver, which must never
// panic, and checks that whatever resolves also prints and resolves
// again to an equal root package.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.wit")
	more, _ := filepath.Glob("testdata/full/*.wit")
	for _, name := range append(files, more...) {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(exampleWIT))
	f.Fuzz(func(t *testing.T, src []byte) {
		m, err := wit.Parse("fuzz.wit", src)
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := wit.Print(&out, m.Root); err != nil {
			t.Fatal(err)
		}
		// Dependencies come from nested blocks, which Print does not
		// write; print each one as a nested block after the root.
		for _, p := range m.Packages {
			if p == m.Root {
				continue
			}
			var dep bytes.Buffer
			if err := wit.Print(&dep, p); err != nil {
				t.Fatal(err)
			}
			out.WriteString(nest(dep.String()))
		}
		again, err := wit.Parse("printed.wit", out.Bytes())
		if err != nil {
			t.Fatalf("printed WIT does not resolve: %v\n%s", err, out.Bytes())
		}
		if d := modelDiff(m.Root, again.Root); d != "" {
			t.Fatalf("round trip differs: %s\n%s", d, out.Bytes())
		}
	})
}

// nest turns "package x;\n rest" into "package x {\n rest }".
func nest(printed string) string {
	decl, rest, _ := bytes.Cut([]byte(printed), []byte(";\n"))
	return "\n" + string(decl) + " {\n" + string(rest) + "}\n"
}
