package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/manifest"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
	"github.com/theater-go/theater/wit"
)

// progressFrom is the chain length from which replay shows a progress
// bar (on a terminal only): shorter chains replay in well under a second.
const progressFrom = 5000

func newReplayCmd() *cobra.Command {
	var f connFlags
	var to uint64
	cmd := &cobra.Command{
		Use:   "replay ID",
		Short: "Re-execute an actor's chain and check every state against the record",
		Long: `replay reads the actor's chain from JetStream and its module and WIT from
the object store, then runs the module again in a local sandbox from the
spawn event through every handled event, answering each clock, random and
request call from the chain; after a later spawn (the id spawned again)
it runs that spawn's module and manifest. It prints how many events replayed with equal
states, or the first divergence: the event, what differed, and the host
call. It exits 1 on a divergence. No node is involved and nothing is sent.`,
		Example: "  theater replay counter-1\n  theater replay counter-1 --to 120",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			return runReplay(ctx, cmd, &f, args[0], to)
		},
	}
	f.register(cmd)
	cmd.Flags().Uint64Var(&to, "to", 0, "stop after the event with this sequence (default: the whole chain)")
	return cmd
}

func runReplay(ctx context.Context, cmd *cobra.Command, f *connFlags, id string, to uint64) error {
	if err := transport.ValidID(id); err != nil {
		return err
	}
	l, err := f.layout()
	if err != nil {
		return err
	}
	nc, err := f.connect(ctx, "replay")
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	store, err := chainstore.New(ctx, js, l)
	if err != nil {
		return err
	}
	var events []chain.Event
	for e, err := range store.Read(ctx, id, 1) {
		if err != nil {
			return fmt.Errorf("replay: reading the chain of %q: %w", id, err)
		}
		if to > 0 && e.Event.Seq-1 > to { // to+1 (not to overflow): a failure completes its handler's step
			break
		}
		events = append(events, e.Event)
	}
	if len(events) == 0 {
		return &exitError{code: 1, err: fmt.Errorf("replay: actor %q has no chain", id)}
	}
	obs, err := js.ObjectStore(ctx, l.ModulesStore())
	if err != nil {
		return fmt.Errorf("replay: the module store: %w", err)
	}
	quiet := slog.New(slog.DiscardHandler)
	spec, specFor, err := replaySpecs(ctx, obs, id, events[0], quiet)
	if err != nil {
		return err
	}
	// A large store value is a digest in the chain: the store's value
	// objects answer a replayed get of one (checked against the digest).
	// Without them (an older layout) such a get diverges, naming it.
	if vs, err := node.NewKVStore(ctx, js, l.StoreBucket(), l.StoreValuesStore()); err == nil {
		spec.Store = vs
		next := specFor
		specFor = func(ctx context.Context, sp *chain.Spawn) (actor.Spec, error) {
			s, err := next(ctx, sp)
			s.Store = vs
			return s, err
		}
	}
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer rt.Close(context.WithoutCancel(ctx))

	opts := []replay.Option{replay.WithSpecFor(specFor)}
	if to > 0 {
		opts = append(opts, replay.WithTo(to))
	}
	if bar := progressBar(cmd.ErrOrStderr(), len(events)); bar != nil {
		opts = append(opts, replay.WithProgress(func(done, _ int) { _ = bar.Set(done) }))
		defer bar.Exit()
	}
	rep, err := replay.Replay(ctx, rt, spec, events, opts...)
	if err != nil {
		return err
	}
	if f.asJSON {
		if err := printJSON(cmd.OutOrStdout(), replayJSON(&rep)); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(cmd.OutOrStdout(), rep.String())
	}
	if !rep.OK() {
		return &exitError{code: 1, err: fmt.Errorf("replay: %q diverged at event %d", id, rep.Divergence.Seq)}
	}
	return nil
}

// replaySpecs gives the spec of the chain's first event, which must be a
// spawn (a chain read from a snapshot on has no spawn event to say what
// it ran), and the [replay.WithSpecFor] function that builds the spec of
// every later spawn the same way: the actor spawned again under the same
// id may run another module and manifest.
func replaySpecs(ctx context.Context, obs jetstream.ObjectStore, id string, first chain.Event, logger *slog.Logger) (
	actor.Spec, func(context.Context, *chain.Spawn) (actor.Spec, error), error) {
	sp, ok := first.Body.(*chain.Spawn)
	if !ok {
		return actor.Spec{}, nil, fmt.Errorf("replay: the chain of %q starts with %s, not spawn", id, first.Kind())
	}
	specFor := func(ctx context.Context, sp *chain.Spawn) (actor.Spec, error) {
		spec, err := replaySpec(ctx, obs, id, sp)
		spec.Logger = logger
		return spec, err
	}
	spec, err := specFor(ctx, sp)
	if err != nil {
		return actor.Spec{}, nil, err
	}
	return spec, specFor, nil
}

// replaySpec builds the spec of the actor as a spawn event spawned it,
// the way a node does: from the manifest the event recorded and the
// module (fetched by the event's digest) and WIT it names.
func replaySpec(ctx context.Context, obs jetstream.ObjectStore, id string, sp *chain.Spawn) (actor.Spec, error) {
	var m manifest.Manifest
	if err := json.Unmarshal(sp.Manifest, &m); err != nil {
		return actor.Spec{}, fmt.Errorf("replay: the spawn event's manifest: %w", err)
	}
	var model *wit.Model
	if m.WIT != "" {
		src, err := wire.GetObject(ctx, obs, m.WIT)
		if err != nil {
			return actor.Spec{}, fmt.Errorf("replay: the WIT %s: %w", m.WIT, err)
		}
		if model, err = wit.Parse(m.Name+".wit", src); err != nil {
			return actor.Spec{}, fmt.Errorf("replay: the WIT %s: %w", m.WIT, err)
		}
	}
	spec, err := actor.SpecFromManifest(id, &m, model)
	if err != nil {
		return actor.Spec{}, fmt.Errorf("replay: %w", err)
	}
	if spec.Module, err = wire.GetObject(ctx, obs, "sha256:"+sp.Module.String()); err != nil {
		return actor.Spec{}, fmt.Errorf("replay: the module %s: %w", sp.Module, err)
	}
	return spec, nil
}

// progressBar returns a bar on w for a long chain when w is a terminal,
// and nil otherwise, so scripts and logs get only the summary.
func progressBar(w io.Writer, n int) *progressbar.ProgressBar {
	file, ok := w.(*os.File)
	if n < progressFrom || !ok || !term.IsTerminal(int(file.Fd())) {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription("replaying"),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

type divergenceJSON struct {
	Seq  uint64 `json:"seq"`
	What string `json:"what"`
	Call *int   `json:"call,omitempty"`
	Name string `json:"name,omitempty"`
	Want string `json:"recorded"`
	Got  string `json:"replayed"`
}

type reportJSON struct {
	Actor       string          `json:"actor"`
	Events      int             `json:"events"`
	Handled     int             `json:"handled"`
	StatesEqual int             `json:"states_equal"`
	Last        uint64          `json:"last_seq"`
	OK          bool            `json:"ok"`
	Divergence  *divergenceJSON `json:"divergence,omitempty"`
}

func replayJSON(r *replay.Report) reportJSON {
	out := reportJSON{Actor: r.Actor, Events: r.Events, Handled: r.Handled, StatesEqual: r.StatesEqual, Last: r.Last, OK: r.OK()}
	if d := r.Divergence; d != nil {
		out.Divergence = &divergenceJSON{Seq: d.Seq, What: string(d.What), Name: d.Name, Want: d.Want, Got: d.Got}
		if d.Call >= 0 {
			call := d.Call
			out.Divergence.Call = &call
		}
	}
	return out
}
