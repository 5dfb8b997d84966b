package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDemo runs the README's main command, `theater demo`, and checks its
// story line by line: the tree starts, the worker counts, crashes and is
// restarted by its supervisor from its last state, and both chains verify
// and replay.
func TestDemo(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "demo", "../../examples/story/tree.toml", "--cache-dir", t.TempDir())
	if code != 0 {
		t.Fatalf("demo exited %d: %s\n%s", code, stderr, stdout)
	}
	want := []string{
		` 1\. an embedded NATS server with JetStream and node "demo" are up`,
		` 2\. tree "story" started on node demo: clerk, then worker under one supervisor \(one_for_one\)`,
		` 3\. clerk asks worker to count: worker's count is 1`,
		` 4\. clerk asks worker to count: worker's count is 2`,
		` 5\. clerk asks worker to crash: worker traps, and the clerk answers with an error`,
		` 6\. the supervisor restarts worker: attempt 1 after trap, from the last state`,
		` 7\. clerk asks worker to count: worker's count is 3, its state survived the crash`,
		` 8\. theater tree: clerk running, restarted 0 times, last failure: guest error \(an answer, not a crash\)`,
		` 9\. theater tree: worker running, restarted 1 time, last failure: trap`,
		`10\. theater verify clerk: ok, \d+ events, every hash link checks`,
		`11\. theater verify worker: ok, \d+ events, every hash link checks`,
		`12\. theater replay clerk: ok, 5 handler calls run again, every state, reply and failure as recorded`,
		`13\. theater replay worker: ok, 5 handler calls run again, every state, reply and failure as recorded`,
		`14\. the end: the node stops and the story's data is removed`,
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), stdout)
	}
	for i, w := range want {
		if !regexp.MustCompile("^" + w + "$").MatchString(lines[i]) {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
}

// TestRunTreeAndTree: `theater run TREE` starts a tree, `theater spawn
// --tree` a second one on the same node, and `theater tree` prints both
// under the node's root, with each actor's restart type and status.
func TestRunTreeAndTree(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"run", "../../examples/story/tree.toml", "--cache-dir", t.TempDir()},
			strings.NewReader(""), &out, &errOut)
	}()
	url := waitOutput(t, &out, regexp.MustCompile(`NATS at (nats://\S+)`))[1]
	waitOutput(t, &out, regexp.MustCompile(`actor worker running`))

	story, err := os.ReadFile("../../examples/story/tree.toml")
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs("../../examples/story")
	second := strings.NewReplacer(`name = "story"`, `name = "sequel"`, `"clerk"`, `"clerk2"`, `"worker"`, `"worker2"`,
		`"d29ya2Vy"`, `"d29ya2VyMg=="`, `"../relay/`, `"`+abs+`/../relay/`, `"wat/worker.wasm"`, `"`+abs+`/wat/worker.wasm"`).Replace(string(story))
	path := filepath.Join(t.TempDir(), "sequel.toml")
	if err := os.WriteFile(path, []byte(second), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "spawn", "--tree", path, "--server", url)
	if code != 0 || !strings.Contains(stdout, "worker2 started on node") {
		t.Fatalf("spawn --tree: exit %d, %s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "", "tree", "--server", url)
	if code != 0 {
		t.Fatalf("tree: exit %d, %s", code, stderr)
	}
	for _, want := range []string{
		`^node/\S+  supervisor one_for_one  running on \S+  restarts 0$`,
		`^├─ tree/sequel  supervisor one_for_one temporary  running on \S+  restarts 0$`,
		`^│  ├─ clerk2  actor permanent  running on \S+  restarts 0$`,
		`^│  └─ worker2  actor permanent  running on \S+  restarts 0$`,
		`^└─ tree/story  supervisor one_for_one temporary  running on \S+  restarts 0$`,
		`^   └─ worker  actor permanent  running on \S+  restarts 0$`,
	} {
		if !regexp.MustCompile("(?m)" + want).MatchString(stdout) {
			t.Errorf("tree output has no line %s:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "", "tree", "worker2", "--server", url)
	if code != 0 || !strings.HasPrefix(stdout, "worker2  actor permanent  running") {
		t.Errorf("tree worker2: exit %d, %q", code, stdout)
	}
	if code, _, stderr = runCLI(t, "", "spawn", "--server", url); code == 0 || !strings.Contains(stderr, "--tree") {
		t.Errorf("spawn without a manifest: exit %d, %s", code, stderr)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("run exited %d: %s", code, errOut.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not stop")
	}
}
