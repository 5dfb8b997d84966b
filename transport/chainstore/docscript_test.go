package chainstore_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/theater-go/theater/actor/chain"
)

// docBlock returns the fenced block of lang that follows heading in
// docs/CHAIN.md.
func docBlock(t *testing.T, heading, lang string) string {
	t.Helper()
	doc, err := os.ReadFile("../../docs/CHAIN.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, heading)
	if i < 0 {
		t.Fatalf("docs/CHAIN.md has no %q", heading)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindStringSubmatch(s[i:])
	if m == nil {
		t.Fatalf("no %s block after %q", lang, heading)
	}
	return m[1]
}

// TestDocScript runs the independent check of docs/CHAIN.md, taken from
// the page, on a stored chain of single events and frames: it passes on
// the chain as stored and fails once one byte of an event inside a frame
// is changed. The dump is made with the page's own nats commands when the
// nats CLI is installed, else written here in the format of nats sub
// --dump.
func TestDocScript(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("no python3")
	}
	e := setup(t, nil)
	appendEach(t, e, "counter-1", 3)
	head := appendFrames(t, e, "counter-1", 2, 5, 1, 3, 16)
	dir := t.TempDir()
	script := filepath.Join(dir, "check-chain.py")
	if err := os.WriteFile(script, []byte(docBlock(t, "### An independent check", "python")), 0o600); err != nil {
		t.Fatal(err)
	}
	dump := filepath.Join(dir, "chain-dump")
	if _, err := exec.LookPath("nats"); err == nil {
		sh := exec.Command("sh", "-ec", docBlock(t, "### An independent check", "sh"))
		sh.Dir, sh.Env = dir, append(os.Environ(), "NATS_URL="+e.srv.ClientURL())
		out, err := sh.CombinedOutput()
		t.Logf("the page's commands:\n%s", out)
		if err != nil {
			t.Fatalf("%v", err)
		}
	} else {
		t.Log("no nats CLI: writing the dump here")
		if err := os.Mkdir(dump, 0o700); err != nil {
			t.Fatal(err)
		}
		n := 0
		for r, err := range e.store.Records(testContext(t), "counter-1") {
			if err != nil {
				t.Fatal(err)
			}
			n++
			b, _ := json.Marshal(map[string]any{"Subject": e.layout.ChainSubject("counter-1"), "Header": r.Header, "Data": base64.StdEncoding.EncodeToString(r.Data)})
			if err := os.WriteFile(filepath.Join(dump, fmt.Sprint(n, ".json")), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	out, err := exec.Command(py, script, dump, "counter-1").CombinedOutput()
	want := fmt.Sprintf("8 messages, 30 events, 0 problems, head 30 %s\n", head.Hash)
	if err != nil || !strings.HasSuffix(string(out), want) {
		t.Fatalf("script on the chain: %v\n%s\nwant %q", err, out, want)
	}

	// One byte of event 8, inside the frame of events 6 to 10.
	f := filepath.Join(dump, "5.json")
	raw, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	data, _ := base64.StdEncoding.DecodeString(m["Data"].(string))
	ps, err := chain.Payloads(data)
	if err != nil || len(ps) != 5 {
		t.Fatalf("5.json holds %d events (%v), want the frame of 6 to 10", len(ps), err)
	}
	ps[2][len(ps[2])-40] ^= 1 // inside event 8's payload, which aliases data
	m["Data"] = base64.StdEncoding.EncodeToString(data)
	raw, _ = json.Marshal(m)
	if err := os.WriteFile(f, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command(py, script, dump, "counter-1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "5.json: event 3: parent does not match") {
		t.Fatalf("script on the changed chain: %v\n%s", err, out)
	}
	t.Logf("changed:\n%s", out)
}
