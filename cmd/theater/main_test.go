package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/theater-go/theater/wit"
)

// runCLI runs the CLI in-process and returns its exit status and output.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestEveryCommandHasHelp(t *testing.T) {
	var walk func(c *cobra.Command, path []string)
	count := 0
	walk = func(c *cobra.Command, path []string) {
		count++
		args := append(append([]string{}, path...), "--help")
		code, out, errOut := runCLI(t, "", args...)
		if code != 0 || !strings.Contains(out, "Usage:") {
			t.Errorf("theater %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, out, errOut)
		}
		for _, sub := range c.Commands() {
			if sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			walk(sub, append(path, sub.Name()))
		}
	}
	walk(newRootCmd(), nil)
	if count < 6 {
		t.Fatalf("walked %d commands, want the root, wit and its 4 subcommands at least", count)
	}
}

func TestWitCheckExample(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wit", "check", "../../examples/wit")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := "example:bank@0.1.0 (root): 1 interface, 1 world, 6 types, 0 functions\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestWitCheckReportsPositionedError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wit")
	src := "package a:b;\n\ninterface i {\n  type t = nope;\n}\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "wit", "check", bad)
	if code == 0 {
		t.Fatalf("exit 0 for a bad file; stdout %q", out)
	}
	want := bad + ":4:12: "
	if !strings.HasPrefix(errOut, "theater: wit: "+want) || !strings.Contains(errOut, `"nope"`) {
		t.Fatalf("stderr %q; want a wit error at %s naming \"nope\"", errOut, want)
	}
}

func TestWitCheckCorpusWithDeps(t *testing.T) {
	corpus := filepath.Join("..", "..", "..", "shared", "wit-corpus", "wasi-0.2.12")
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("WASI corpus not found at %s (it lives in ../shared beside the repo): %v", corpus, err)
	}
	args := []string{"wit", "check", filepath.Join(corpus, "http")}
	for _, dep := range []string{"io", "clocks", "random", "cli", "filesystem", "sockets"} {
		args = append(args, "--dep", filepath.Join(corpus, dep))
	}
	code, out, errOut := runCLI(t, "", args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 || !strings.HasPrefix(lines[len(lines)-1], "wasi:http@0.2.12 (root): ") {
		t.Fatalf("want 7 package lines ending with the root wasi:http, got:\n%s", out)
	}
}

func TestWitPrintRoundTrips(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wit", "print", "../../examples/wit")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m, err := wit.Parse("printed.wit", []byte(out))
	if err != nil {
		t.Fatalf("printed WIT does not parse: %v\n%s", err, out)
	}
	if _, err := m.Type("api.transfer"); err != nil {
		t.Fatalf("printed WIT lost api.transfer: %v", err)
	}
	code, out, errOut = runCLI(t, "", "wit", "print", "../../examples/wit", "--world", "account")
	if code != 0 || !strings.Contains(out, "world account {") || !strings.Contains(out, "export api;") {
		t.Fatalf("print --world: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestWitEncodeDecode(t *testing.T) {
	const transfer = `{"to": "bob", "amount": 250, "memo": null}`
	// map{to: "bob", amount: 250, memo: nil}, smallest encodings.
	const wantHex = "83a2746fa3626f62a6616d6f756e74ccfaa46d656d6fc0"
	code, out, errOut := runCLI(t, "", "wit", "encode", "--wit", "../../examples/wit", "--type", "api.transfer", transfer)
	if code != 0 {
		t.Fatalf("encode: exit %d: %s", code, errOut)
	}
	if got := hex.EncodeToString([]byte(out)); got != wantHex {
		t.Fatalf("encode: got %s, want %s", got, wantHex)
	}
	code, out, errOut = runCLI(t, out, "wit", "decode", "--wit", "../../examples/wit", "--type", "api.transfer")
	if code != 0 {
		t.Fatalf("decode: exit %d: %s", code, errOut)
	}
	if want := `{"to":"bob","amount":250,"memo":null}` + "\n"; out != want {
		t.Fatalf("decode: got %q, want %q", out, want)
	}

	// --base64 both ways, and a primitive type without --wit.
	code, out, errOut = runCLI(t, "", "wit", "encode", "--type", "list<u8>", `"aGk="`, "--base64")
	if code != 0 || out != "xAJoaQ==\n" {
		t.Fatalf("encode list<u8> --base64: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCLI(t, out, "wit", "decode", "--type", "list<u8>", "--base64")
	if code != 0 || out != "\"aGk=\"\n" {
		t.Fatalf("decode list<u8> --base64: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestWitEncodeErrorNamesPath(t *testing.T) {
	code, out, errOut := runCLI(t, "", "wit", "encode", "--wit", "../../examples/wit", "--type", "api.transfer",
		`{"to": "bob", "amount": "ten", "memo": null}`)
	if code == 0 {
		t.Fatalf("exit 0, stdout %q", out)
	}
	if out != "" {
		t.Fatalf("wrote %q to stdout for a bad value", out)
	}
	want := `theater: codec: amount: expected u64, got string "ten"` + "\n"
	if errOut != want {
		t.Fatalf("stderr %q, want %q", errOut, want)
	}
}

func TestWitDecodeRejectsTrailingGarbage(t *testing.T) {
	code, _, errOut := runCLI(t, "\x07\x08", "wit", "decode", "--type", "u32")
	if code == 0 || !strings.HasPrefix(errOut, "theater: codec: ") {
		t.Fatalf("exit %d, stderr %q; want a codec error", code, errOut)
	}
}
