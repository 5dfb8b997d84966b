package main

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const modulePath = "github.com/theater-go/theater"

// importRule says what one package may import.
type importRule struct {
	pkg string
	// allowed lists the packages of ours it may import directly, exactly
	// as the "may import" column of docs/ARCHITECTURE.md does.
	allowed []string
	// forbidden lists outside import-path prefixes that must not appear
	// anywhere in its dependency graph (go list -deps), so a package
	// cannot reach NATS or wazero through another of ours either.
	forbidden []string
}

var (
	natsServer = "github.com/nats-io/nats-server/"
	anyNATS    = "github.com/nats-io/"
	wazero     = "github.com/tetratelabs/wazero"

	noNATS       = []string{anyNATS}
	noNATSWazero = []string{anyNATS, wazero}
	// noServerWazero is for packages a client program links: nats.go,
	// but neither the server nor the sandbox.
	noServerWazero = []string{natsServer, wazero}
)

// importRules are the table of docs/ARCHITECTURE.md; every package of the
// module but the CLI and the examples must have a row in both.
var importRules = []importRule{
	{pkg: "wit", allowed: []string{"wit/internal/syntax"}, forbidden: noNATSWazero},
	{pkg: "wit/internal/syntax", forbidden: noNATSWazero},
	{pkg: "wit/codec", allowed: []string{"wit"}, forbidden: noNATSWazero},
	{pkg: "actor", allowed: []string{"actor/abi", "actor/internal/httpcap", "actor/internal/meter", "actor/internal/preinit", "actor/internal/wasm", "actor/manifest", "supervisor", "wit", "wit/codec"}, forbidden: noNATS},
	{pkg: "actor/abi", allowed: []string{"wit"}, forbidden: noNATS},
	{pkg: "actor/manifest", allowed: []string{"supervisor"}, forbidden: noNATSWazero},
	{pkg: "actor/internal/wasm", forbidden: noNATSWazero},
	{pkg: "actor/internal/httpcap", forbidden: noNATSWazero},
	{pkg: "actor/internal/meter", allowed: []string{"actor/internal/wasm"}, forbidden: noNATSWazero},
	{pkg: "actor/internal/preinit", allowed: []string{"actor/internal/wasm"}, forbidden: noNATSWazero},
	{pkg: "actor/chain", forbidden: noNATSWazero},
	{pkg: "actor/replay", allowed: []string{"actor", "actor/chain", "supervisor"}, forbidden: noNATS},
	{pkg: "actor/guest", forbidden: noNATSWazero},
	{pkg: "supervisor", forbidden: noNATSWazero},
	{pkg: "transport", forbidden: noServerWazero},
	{pkg: "transport/embedded", forbidden: []string{wazero}},
	{pkg: "transport/wire", allowed: []string{"actor/manifest", "wit", "wit/codec"}, forbidden: noServerWazero},
	{pkg: "transport/client", allowed: []string{"actor/manifest", "transport", "transport/wire", "wit/codec"}, forbidden: noServerWazero},
	{pkg: "transport/node", allowed: []string{"actor", "actor/chain", "actor/manifest", "actor/replay", "supervisor", "transport", "transport/chainstore", "transport/wire", "wit", "wit/codec"}, forbidden: []string{natsServer}},
	{pkg: "transport/chainstore", allowed: []string{"actor/chain", "transport"}, forbidden: noServerWazero},
	{pkg: "transport/natstest", allowed: []string{"actor", "transport", "transport/client", "transport/embedded", "transport/node"}},
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

type listedPackage struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func goList(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", modulePath+"/...").Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			return pkgs
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
}

// TestImportRules checks every package's direct imports of ours against
// its row, and its whole dependency graph against the outside packages
// its row forbids: nats-server only under transport/embedded and the test
// helpers, wazero nowhere under transport but the node, NATS nowhere
// under actor, wit and supervisor.
func TestImportRules(t *testing.T) {
	checked := 0
	for _, p := range goList(t) {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, modulePath), "/")
		rule := ruleFor(rel)
		if rule == nil {
			if rel != "cmd/theater" && !within(rel, "examples") {
				t.Errorf("%s has no row in docs/ARCHITECTURE.md's import rules", p.ImportPath)
			}
			continue
		}
		checked++
		for _, dep := range p.Deps {
			for _, f := range rule.forbidden {
				if strings.HasPrefix(dep, f) {
					t.Errorf("%s depends on %s (directly or through another package), which docs/ARCHITECTURE.md forbids", p.ImportPath, dep)
				}
			}
		}
		for _, imp := range p.Imports {
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

// TestArchitectureTable checks that docs/ARCHITECTURE.md's table has one
// row per rule, in any order, whose "may import" column names exactly
// the rule's allowed packages.
func TestArchitectureTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|[^|]*\\|([^|]*)\\|$")
	tick := regexp.MustCompile("`([^`]+)`")
	seen := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(doc), -1) {
		pkg := m[1]
		if pkg == "cmd/theater" || within(pkg, "examples") || pkg == "examples/" {
			continue
		}
		if seen[pkg] {
			t.Errorf("docs/ARCHITECTURE.md has two rows for %s", pkg)
		}
		seen[pkg] = true
		rule := ruleFor(pkg)
		if rule == nil {
			t.Errorf("docs/ARCHITECTURE.md has a row for %s, which has no import rule", pkg)
			continue
		}
		var doc []string
		for _, a := range tick.FindAllStringSubmatch(m[2], -1) {
			doc = append(doc, a[1])
		}
		want := slices.Clone(rule.allowed)
		slices.Sort(doc)
		slices.Sort(want)
		if !slices.Equal(doc, want) {
			t.Errorf("docs/ARCHITECTURE.md says %s may import %v; the rule says %v", pkg, doc, want)
		}
	}
	for _, r := range importRules {
		if !seen[r.pkg] {
			t.Errorf("import rule for %s has no row in docs/ARCHITECTURE.md", r.pkg)
		}
	}
}
