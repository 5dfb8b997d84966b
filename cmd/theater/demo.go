package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/wire"
)

// storyTree is the tree `theater demo` tells, relative to the checkout.
const storyTree = "examples/story/tree.toml"

func newDemoCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "demo [TREE]",
		Short: "Tell the supervision story: a tree of agents, a crash, a restart, then verify and replay",
		Long: `demo starts an embedded NATS server (JetStream in a temporary directory) and
a node, starts the story's supervision tree (` + storyTree + `): a clerk
that forwards requests to a worker. The clerk asks the worker to count,
then to crash; the worker's supervisor restarts it from its last state
and the count goes on. Then the chains of both are verified and replayed.
Each step is one line; the exit status is 1 if a chain does not verify or
replay. Run it from the repository's root, or give the tree file.`,
		Example: "  go run ./cmd/theater demo",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := storyTree
			if len(args) == 1 {
				path = args[0]
			}
			dir, err := os.MkdirTemp("", "theater-demo-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			f.store, f.listen, f.name = dir, "127.0.0.1:0", "demo"
			quiet := slog.New(slog.DiscardHandler)
			n, _, stop, err := f.start(cmd.Context(), quiet, quiet)
			if err != nil {
				return err
			}
			err = tellStory(cmd.Context(), &f, n.Name(), path, cmd.OutOrStdout())
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return errors.Join(err, stop(ctx))
		},
	}
	f.register(cmd, "127.0.0.1:0", "unused: the demo keeps its data in a temporary directory")
	return cmd
}

// tellStory runs the story on node and prints one line per step.
func tellStory(ctx context.Context, f *serverFlags, node, path string, out io.Writer) error {
	l, err := f.layout()
	if err != nil {
		return err
	}
	nc, err := f.connect(ctx, "demo")
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := client.New(ctx, nc, client.WithLayout(l))
	if err != nil {
		return err
	}
	restarted := make(chan wire.Event, 8)
	sub, err := nc.Subscribe(l.EventSubject("worker", wire.EventRestarted), func(m *nats.Msg) {
		var ev wire.Event
		if json.Unmarshal(m.Data, &ev) == nil {
			restarted <- ev
		}
	})
	if err != nil {
		return err
	}
	defer sub.Unsubscribe()
	step := 0
	say := func(format string, args ...any) {
		step++
		fmt.Fprintf(out, "%2d. "+format+"\n", append([]any{step}, args...)...)
	}
	say("an embedded NATS server with JetStream and node %q are up", node)
	infos, err := c.SpawnTree(ctx, path, client.SpawnOptions{Node: node})
	if err != nil {
		return err
	}
	say("tree %q started on node %s: %s under one supervisor (one_for_one)", "story", node, strings.Join(ids(infos), ", then "))
	count := func() (int, error) {
		reply, err := c.Request(ctx, "clerk", []byte{0}, wire.Msgpack)
		if err != nil {
			return 0, err
		}
		if len(reply) != 5 || reply[0] != 0xce {
			return 0, fmt.Errorf("demo: the worker answered %x, not a count", reply)
		}
		return int(reply[1])<<24 | int(reply[2])<<16 | int(reply[3])<<8 | int(reply[4]), nil
	}
	for range 2 {
		n, err := count()
		if err != nil {
			return err
		}
		say("clerk asks worker to count: worker's count is %d", n)
	}
	if _, err := c.Request(ctx, "clerk", []byte{1}, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
		return fmt.Errorf("demo: the crash answered %v, want the clerk's error", err)
	}
	say("clerk asks worker to crash: worker traps, and the clerk answers with an error")
	select {
	case ev := <-restarted:
		say("the supervisor restarts worker: %s", ev.Detail)
	case <-time.After(10 * time.Second):
		return errors.New("demo: the worker was not restarted")
	}
	n, err := count()
	if err != nil {
		return err
	}
	say("clerk asks worker to count: worker's count is %d, its state survived the crash", n)
	trees, err := c.Tree(ctx, "tree/story")
	if err != nil {
		return err
	}
	for _, a := range trees[0].Children {
		say("theater tree: %s %s, restarted %s%s", a.ID, a.Status, times(a.Restarts), lastFailure(a))
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	store, err := chainstore.New(ctx, js, l)
	if err != nil {
		return err
	}
	obs, err := js.ObjectStore(ctx, l.ModulesStore())
	if err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	var bad []error
	for _, id := range ids(infos) {
		rep, err := store.Verify(ctx, id, chain.Head{})
		if err != nil {
			return err
		}
		if !rep.OK() {
			bad = append(bad, fmt.Errorf("demo: the chain of %s does not verify: %v", id, rep.Findings))
			continue
		}
		say("theater verify %s: ok, %d events, every hash link checks", id, rep.Head.Seq)
	}
	for _, id := range ids(infos) {
		var events []chain.Event
		for e, err := range store.Read(ctx, id, 1) {
			if err != nil {
				return err
			}
			events = append(events, e.Event)
		}
		spec, specFor, err := replaySpecs(ctx, obs, id, events[0], quiet)
		if err != nil {
			return err
		}
		rep, err := replay.Replay(ctx, rt, spec, events, replay.WithSpecFor(specFor))
		if err != nil {
			return err
		}
		if !rep.OK() {
			bad = append(bad, fmt.Errorf("demo: the chain of %s diverges: %v", id, rep.Divergence))
			continue
		}
		say("theater replay %s: ok, %d handler calls run again, every state, reply and failure as recorded", id, rep.Handled)
	}
	if len(bad) > 0 {
		return &exitError{code: 1, err: errors.Join(bad...)}
	}
	say("the end: the node stops and the story's data is removed")
	return nil
}

func lastFailure(t wire.TreeNode) string {
	switch t.LastFailure {
	case "":
		return ""
	case "guest error":
		return ", last failure: guest error (an answer, not a crash)"
	}
	return ", last failure: " + t.LastFailure
}

func times(n int) string {
	if n == 1 {
		return "1 time"
	}
	return fmt.Sprintf("%d times", n)
}
