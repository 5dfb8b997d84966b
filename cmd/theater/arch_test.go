package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const modulePath = "github.com/theater-go/theater"

// importRule says what a package (and every package under it) may import.
type importRule struct {
	pkg string
	// allowed lists the packages of ours it may import (and their
	// subpackages); nil means any of ours.
	allowed []string
	// forbidden lists outside import-path prefixes it must not use.
	forbidden []string
}

// importRules are docs/ARCHITECTURE.md's rules; the most specific rule
// that matches a package applies.
var importRules = []importRule{
	{pkg: "wit", allowed: []string{"wit"}},
	{pkg: "wit/internal/syntax", allowed: []string{}},
	{pkg: "wit/codec", allowed: []string{"wit", "wit/internal"}},
	{pkg: "actor", allowed: []string{"actor", "wit"}, forbidden: []string{"github.com/nats-io/"}},
	{pkg: "transport", allowed: []string{"transport", "wit"}, forbidden: []string{"github.com/tetratelabs/wazero"}},
	{pkg: "cmd/theater/internal/node", allowed: []string{"actor", "transport", "wit"}},
	{pkg: "supervisor", allowed: []string{"supervisor"}, forbidden: []string{"github.com/nats-io/", "github.com/tetratelabs/wazero"}},
}

func ruleFor(rel string) *importRule {
	var best *importRule
	for i := range importRules {
		r := &importRules[i]
		if within(rel, r.pkg) && (best == nil || len(r.pkg) > len(best.pkg)) {
			best = r
		}
	}
	return best
}

func within(rel, prefix string) bool {
	return rel == prefix || strings.HasPrefix(rel, prefix+"/")
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-json", modulePath+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, modulePath), "/")
		rule := ruleFor(rel)
		if rule == nil {
			continue
		}
		checked++
		for _, imp := range p.Imports {
			for _, f := range rule.forbidden {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s, which docs/ARCHITECTURE.md forbids", p.ImportPath, imp)
				}
			}
			if !strings.HasPrefix(imp, modulePath+"/") || rule.allowed == nil {
				continue
			}
			dep := strings.TrimPrefix(imp, modulePath+"/")
			ok := false
			for _, a := range rule.allowed {
				ok = ok || within(dep, a)
			}
			if !ok {
				t.Errorf("%s imports %s; docs/ARCHITECTURE.md allows only %v", p.ImportPath, imp, rule.allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list returned no packages covered by the rules")
	}
}
