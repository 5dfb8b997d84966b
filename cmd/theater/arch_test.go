package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/theater-go/theater"

// importRule says what one package may import.
type importRule struct {
	pkg string
	// allowed lists the packages of ours it may import, exactly.
	allowed []string
	// forbidden lists outside import-path prefixes it must not use.
	forbidden []string
}

var (
	noNATS   = []string{"github.com/nats-io/"}
	noWazero = []string{"github.com/tetratelabs/wazero"}
)

// importRules are the table of docs/ARCHITECTURE.md; every package of the
// module but the CLI and the examples must have a row.
var importRules = []importRule{
	{pkg: "wit", allowed: []string{"wit/internal/syntax"}},
	{pkg: "wit/internal/syntax"},
	{pkg: "wit/codec", allowed: []string{"wit"}},
	{pkg: "actor", allowed: []string{"actor/abi", "wit", "wit/codec"}, forbidden: noNATS},
	{pkg: "actor/abi", allowed: []string{"wit"}, forbidden: noNATS},
	{pkg: "actor/manifest", forbidden: noNATS},
	{pkg: "actor/guest", forbidden: append(noNATS, noWazero...)},
	{pkg: "transport", forbidden: noWazero},
	{pkg: "supervisor", forbidden: append(noNATS, noWazero...)},
	{pkg: "cmd/theater/internal/node", allowed: []string{"actor", "actor/manifest", "transport", "wit", "wit/codec"}},
}

func ruleFor(rel string) *importRule {
	for i := range importRules {
		if importRules[i].pkg == rel {
			return &importRules[i]
		}
	}
	return nil
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
			if rel != "cmd/theater" && !within(rel, "examples") {
				t.Errorf("%s has no row in docs/ARCHITECTURE.md's import rules", p.ImportPath)
			}
			continue
		}
		checked++
		for _, imp := range p.Imports {
			for _, f := range rule.forbidden {
				if strings.HasPrefix(imp, f) {
					t.Errorf("%s imports %s, which docs/ARCHITECTURE.md forbids", p.ImportPath, imp)
				}
			}
			if !strings.HasPrefix(imp, modulePath+"/") {
				continue
			}
			if !slices.Contains(rule.allowed, strings.TrimPrefix(imp, modulePath+"/")) {
				t.Errorf("%s imports %s; docs/ARCHITECTURE.md allows only %v", p.ImportPath, imp, rule.allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("go list returned no packages covered by the rules")
	}
}
