package node_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/supervisor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// TestEndCrashWindow opens the window between a failure that ends an
// actor and the events that close its chain: the chain stream takes the
// failed handler's frame and refuses the next append (a per-subject
// limit with discard new), and the registry entry is put back as it was,
// as if the node died between the failure and the end. The
// node restarted under its name restores the actor from a chain that
// ends with the failure and must end it as its supervisor would have: a
// temporary actor that trapped is failed, a transient or temporary one
// that exited normally is stopped (TestNotRestarted has the rest of the
// table, the failures that are restarted).
//
// The node may put the end in the failure's frame (a group commit), so
// the window is not always open: a try that finds the chain closed is
// made again with another actor.
func TestEndCrashWindow(t *testing.T) {
	cases := []struct {
		restart supervisor.Restart
		cmd     []byte
		status  string // the entry's status after the restore
		err     error  // what a request then answers
	}{
		{supervisor.Temporary, cmdTrap, wire.StatusFailed, wire.ErrGaveUp},
		{supervisor.Temporary, cmdExit, wire.StatusStopped, wire.ErrStopped},
		{supervisor.Transient, cmdExit, wire.StatusStopped, wire.ErrStopped},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s-%x", tc.restart, tc.cmd), func(t *testing.T) {
			ctx := context.Background()
			srv := testServer(t)
			a := startNode(t, srv, "a")
			c := newClient(t, srv)
			nc := connect(t, srv)
			js, err := jetstream.New(nc)
			if err != nil {
				t.Fatal(err)
			}
			l := transport.Layout{}
			st, err := js.Stream(ctx, l.ChainStream())
			if err != nil {
				t.Fatal(err)
			}
			orig := st.CachedInfo().Config
			reg, err := js.KeyValue(ctx, l.ActorsBucket())
			if err != nil {
				t.Fatal(err)
			}
			sv := manifest.Supervision{Restart: tc.restart}
			var id string
			for try := 0; ; try++ {
				if try == 8 {
					t.Fatal("the failure never had a frame of its own in 8 tries")
				}
				id = fmt.Sprintf("w%d", try)
				if _, err := js.UpdateStream(ctx, orig); err != nil {
					t.Fatal(err)
				}
				spawnModule(t, c, faultyManifest(sv), faultyModule, id, "")
				if n := add(t, c, id); n != 1 {
					t.Fatalf("count %d, want 1", n)
				}
				subj := l.ChainSubject(id)
				info, err := st.Info(ctx, jetstream.WithSubjectFilter(subj))
				if err != nil {
					t.Fatal(err)
				}
				limited := orig
				limited.MaxMsgsPerSubject = int64(info.State.Subjects[subj]) + 1 // the failed handler's frame
				limited.Discard, limited.DiscardNewPerSubject = jetstream.DiscardNew, true
				if _, err := js.UpdateStream(ctx, limited); err != nil {
					t.Fatal(err)
				}
				before, err := reg.Get(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Request(ctx, id, tc.cmd, wire.Msgpack); !errors.Is(err, wire.ErrFailed) {
					t.Fatalf("the failing call answered %v, want failed", err)
				}
				// The node lets the actor go when the end's append is refused.
				checkFor(t, time.Minute, func() error {
					if node.Hosts(a, id) {
						return errors.New("still hosted")
					}
					return nil
				})
				evs := chainOf(t, nc, id)
				if _, ok := evs[len(evs)-1].Body.(*chain.Failure); ok {
					// A node that died here left its entry as it was.
					if _, err := reg.Put(ctx, id, before.Value()); err != nil {
						t.Fatal(err)
					}
					break
				}
				t.Logf("try %d: the chain ends with %v, in the failure's frame", try, kinds(evs[len(evs)-1:]))
			}
			if _, err := js.UpdateStream(ctx, orig); err != nil {
				t.Fatal(err)
			}
			if err := a.Close(ctx); err != nil {
				t.Log(err)
			}
			startNode(t, srv, "a")
			checkFor(t, time.Minute, func() error {
				e, err := c.Entry(ctx, id)
				if err != nil {
					return err
				}
				if e.Status != tc.status {
					return fmt.Errorf("status %s, want %s", e.Status, tc.status)
				}
				return nil
			})
			if _, err := c.Request(ctx, id, cmdAdd, wire.Msgpack); !errors.Is(err, tc.err) {
				t.Fatalf("a request after the restore answered %v, want %v", err, tc.err)
			}
		})
	}
}
