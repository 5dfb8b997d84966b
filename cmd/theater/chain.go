package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/actor/chain"
	"github.com/theater-go/theater/actor/replay"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/chainstore"
	"github.com/theater-go/theater/wit/codec"
)

// chainConn is what the chain commands need: the layout, JetStream and
// the chain store.
type chainConn struct {
	l     transport.Layout
	js    jetstream.JetStream
	store *chainstore.Store
	close func()
}

func (f *connFlags) chain(ctx context.Context, name string) (*chainConn, error) {
	l, err := f.layout()
	if err != nil {
		return nil, err
	}
	nc, err := f.connect(ctx, name)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, err
	}
	store, err := chainstore.New(ctx, js, l)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return &chainConn{l: l, js: js, store: store, close: nc.Close}, nil
}

func newEventsCmd() *cobra.Command {
	var f connFlags
	var follow bool
	cmd := &cobra.Command{
		Use:   "events ID",
		Short: "Print an actor's chain: one line per event",
		Long: `events reads the actor's hash-chained history from JetStream and prints
each event: its sequence, kind, hash and what it records. With --follow it
keeps printing events as they are appended, until interrupted; with --json
each event is one JSON object per line.`,
		Example: "  theater events counter-1\n  theater events counter-1 --follow --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if !follow {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, f.timeout)
				defer cancel()
			}
			return runEvents(ctx, cmd.OutOrStdout(), &f, args[0], follow)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&follow, "follow", false, "keep printing events as they are appended")
	return cmd
}

func runEvents(ctx context.Context, w io.Writer, f *connFlags, id string, follow bool) error {
	if err := transport.ValidID(id); err != nil {
		return err
	}
	cc, err := f.chain(ctx, "events")
	if err != nil {
		return err
	}
	defer cc.close()
	var last uint64 // stream sequence of the message of the last event printed
	n := 0
	for e, err := range cc.store.Read(ctx, id, 1) {
		if err != nil {
			return err
		}
		if err := printEvent(w, f.asJSON, e.Event, e.Hash); err != nil {
			return err
		}
		last, n = e.StreamSeq, n+1
	}
	if !follow {
		if n == 0 {
			return &exitError{code: 1, err: fmt.Errorf("events: actor %q has no chain", id)}
		}
		return nil
	}
	// Following needs a push of new events: an ordered consumer, which
	// lives only as long as this command.
	cons, err := cc.js.OrderedConsumer(ctx, cc.l.ChainStream(), jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{cc.l.ChainSubject(id)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    last + 1,
	})
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()
	for {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		ps, err := chain.Payloads(m.Data()) // one event, or a frame of several
		if err != nil {
			return fmt.Errorf("events: a stored message does not split into events: %w", err)
		}
		for _, p := range ps {
			ev, err := chain.Decode(p)
			if err != nil {
				return fmt.Errorf("events: a stored event does not decode: %w", err)
			}
			if err := printEvent(w, f.asJSON, ev, chain.Sum(p)); err != nil {
				return err
			}
		}
	}
}

// eventJSON is one event as `theater events --json` prints it: bytes in
// base64, hashes in hex.
type eventJSON struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Hash   string `json:"hash"`
	Parent string `json:"parent"`
	Body   any    `json:"body"`
}

func printEvent(w io.Writer, asJSON bool, ev chain.Event, h chain.Hash) error {
	if asJSON {
		b, err := json.Marshal(eventJSON{Seq: ev.Seq, Kind: string(ev.Kind()), Hash: h.String(), Parent: ev.Parent.String(), Body: ev.Body})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	_, err := fmt.Fprintf(w, "%6d  %-9s %s  %s\n", ev.Seq, ev.Kind(), h.String()[:12], summary(ev.Body))
	return err
}

// summary is the one-line description of an event's body.
func summary(b chain.Body) string {
	switch b := b.(type) {
	case *chain.Spawn:
		return fmt.Sprintf("module %s, manifest %d B, state %d B", b.Module.String()[:12], len(b.Manifest), len(b.State))
	case *chain.Handled:
		var s strings.Builder
		fmt.Fprintf(&s, "%s", b.Call)
		if b.MailboxSeq > 0 {
			fmt.Fprintf(&s, " mailbox %d", b.MailboxSeq)
		}
		if b.From != "" {
			fmt.Fprintf(&s, " from %s", b.From)
		}
		fmt.Fprintf(&s, ", payload %d B", len(b.Payload))
		if len(b.Inputs) > 0 {
			fmt.Fprintf(&s, ", %d inputs", len(b.Inputs))
		}
		fmt.Fprintf(&s, ", state %s", b.State.String()[:12])
		if len(b.Reply) > 0 {
			fmt.Fprintf(&s, ", reply %d B", len(b.Reply))
		}
		for _, o := range b.Out {
			fmt.Fprintf(&s, ", send to %s (%d B)", o.To, len(o.Payload))
		}
		return s.String()
	case *chain.Failure:
		s := fmt.Sprintf("%s in %s: %s", b.Reason, b.Call, firstLine(b.Detail))
		if b.MailboxSeq > 0 {
			s += fmt.Sprintf(" (mailbox %d)", b.MailboxSeq)
		}
		return s
	case *chain.Restart:
		return fmt.Sprintf("%s, state %s", b.Reason, b.State.String()[:12])
	case *chain.Stop:
		return b.Reason
	case *chain.Snapshot:
		return fmt.Sprintf("state %d B %s", len(b.State), chain.Sum(b.State).String()[:12])
	case *chain.Owner:
		return fmt.Sprintf("node %s, incarnation %s", b.Node, b.Incarnation)
	case *chain.Lifecycle:
		keys := make([]string, 0, len(b.Fields))
		for k := range b.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := []string{b.What}
		for _, k := range keys {
			parts = append(parts, k+"="+b.Fields[k])
		}
		return strings.Join(parts, " ")
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func newVerifyCmd() *cobra.Command {
	var f connFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "verify ID|--all",
		Short: "Check an actor's chain: every changed, removed, reordered or inserted event",
		Long: `verify reads the actor's chain (or every actor's, with --all) straight from
JetStream and checks every hash, sequence and link. It prints each
problem with the sequence of the event it concerns and exits 1 if there
is any. docs/CHAIN.md describes the checks and an independent script.`,
		Example: "  theater verify counter-1\n  theater verify --all",
		Args: func(cmd *cobra.Command, args []string) error {
			if all != (len(args) == 0) || len(args) > 1 {
				return fmt.Errorf("verify: name one actor id, or --all")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			return runVerify(ctx, cmd.OutOrStdout(), &f, args, all)
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "verify every actor's chain")
	return cmd
}

type verifyJSON struct {
	Actor    string          `json:"actor"`
	Records  int             `json:"records"`
	HeadSeq  uint64          `json:"head_seq"`
	HeadHash string          `json:"head_hash"`
	OK       bool            `json:"ok"`
	Findings []chain.Finding `json:"findings"`
}

func runVerify(ctx context.Context, w io.Writer, f *connFlags, ids []string, all bool) error {
	for _, id := range ids {
		if err := transport.ValidID(id); err != nil {
			return err
		}
	}
	cc, err := f.chain(ctx, "verify")
	if err != nil {
		return err
	}
	defer cc.close()
	if all {
		if ids, err = chainIDs(ctx, cc); err != nil {
			return err
		}
	}
	bad := 0
	for _, id := range ids {
		rep, err := cc.store.Verify(ctx, id, chain.Head{})
		if err != nil {
			return err
		}
		if rep.Records == 0 && !all {
			return &exitError{code: 1, err: fmt.Errorf("verify: actor %q has no chain", id)}
		}
		if !rep.OK() {
			bad++
		}
		if f.asJSON {
			b, _ := json.Marshal(verifyJSON{Actor: id, Records: rep.Records, HeadSeq: rep.Head.Seq, HeadHash: rep.Head.Hash.String(), OK: rep.OK(), Findings: rep.Findings})
			fmt.Fprintf(w, "%s\n", b)
			continue
		}
		if rep.OK() {
			fmt.Fprintf(w, "%s: ok, %d events, head %d %s\n", id, rep.Head.Seq, rep.Head.Seq, rep.Head.Hash)
			continue
		}
		for _, fd := range rep.Findings {
			fmt.Fprintf(w, "%s: event %d: %s: %s\n", id, fd.Seq, fd.Problem, fd.Detail)
		}
	}
	if bad > 0 {
		return &exitError{code: 1, err: fmt.Errorf("verify: %d of %d chains have problems", bad, len(ids))}
	}
	return nil
}

// chainIDs lists the actors that have a chain: the subjects of the chain
// stream.
func chainIDs(ctx context.Context, cc *chainConn) ([]string, error) {
	s, err := cc.js.Stream(ctx, cc.l.ChainStream())
	if err != nil {
		return nil, err
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(cc.l.ChainSubject("*")))
	if err != nil {
		return nil, err
	}
	prefix := cc.l.ChainSubject("")
	ids := make([]string, 0, len(info.State.Subjects))
	for subj := range info.State.Subjects {
		ids = append(ids, strings.TrimPrefix(subj, prefix))
	}
	sort.Strings(ids)
	return ids, nil
}

// withStateAt gives `theater state` the flag --at SEQ: the state the
// actor had after the event at that sequence, computed by replaying its
// chain in a local sandbox (no node involved).
func withStateAt(cmd *cobra.Command) *cobra.Command {
	var at uint64
	live := cmd.RunE
	cmd.Flags().Uint64Var(&at, "at", 0, "the state after the chain event with this sequence, by replaying the chain locally")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if at == 0 {
			return live(cmd, args)
		}
		timeout, _ := cmd.Flags().GetDuration("timeout")
		ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
		defer cancel()
		var f connFlags
		f.prefix, _ = cmd.Flags().GetString("prefix")
		f.client.URLs, _ = cmd.Flags().GetString("server")
		f.client.CredsFile, _ = cmd.Flags().GetString("creds")
		f.client.NKeySeedFile, _ = cmd.Flags().GetString("nkey")
		f.client.User, _ = cmd.Flags().GetString("user")
		f.client.Password, _ = cmd.Flags().GetString("password")
		f.client.Token, _ = cmd.Flags().GetString("token")
		f.client.CAFile, _ = cmd.Flags().GetString("tls-ca")
		f.client.CertFile, _ = cmd.Flags().GetString("tls-cert")
		f.client.KeyFile, _ = cmd.Flags().GetString("tls-key")
		f.asJSON, _ = cmd.Flags().GetBool("json")
		return runStateAt(ctx, cmd.OutOrStdout(), &f, args[0], at)
	}
	return cmd
}

func runStateAt(ctx context.Context, w io.Writer, f *connFlags, id string, at uint64) error {
	if err := transport.ValidID(id); err != nil {
		return err
	}
	cc, err := f.chain(ctx, "state")
	if err != nil {
		return err
	}
	defer cc.close()
	var events []chain.Event
	for e, err := range cc.store.Read(ctx, id, 1) {
		if err != nil {
			return err
		}
		if e.Event.Seq-1 > at { // at+1 (not to overflow): a failure completes its handler's step
			break
		}
		events = append(events, e.Event)
	}
	if uint64(len(events)) < at {
		return &exitError{code: 1, err: fmt.Errorf("state: the chain of %q has %d events, not %d", id, len(events), at)}
	}
	obs, err := cc.js.ObjectStore(ctx, cc.l.ModulesStore())
	if err != nil {
		return err
	}
	quiet := slog.New(slog.DiscardHandler)
	spec, specFor, err := replaySpecs(ctx, obs, id, events[0], quiet)
	if err != nil {
		return err
	}
	// The state is of the type the last spawn at or before at declared.
	types := spec.Types
	rt, err := actor.NewRuntime(ctx, actor.WithLogger(quiet))
	if err != nil {
		return err
	}
	defer rt.Close(context.WithoutCancel(ctx))
	rep, err := replay.Replay(ctx, rt, spec, events, replay.WithTo(at),
		replay.WithSpecFor(func(ctx context.Context, sp *chain.Spawn) (actor.Spec, error) {
			s, err := specFor(ctx, sp)
			types = s.Types
			return s, err
		}))
	if err != nil {
		return err
	}
	if !rep.OK() {
		return &exitError{code: 1, err: fmt.Errorf("state: the chain of %q diverges at event %d: %s", id, rep.Divergence.Seq, rep.Divergence)}
	}
	if types.State == nil {
		// No state type: the bytes as they are.
		fmt.Fprintf(w, "%q\n", base64.StdEncoding.EncodeToString(rep.State))
		return nil
	}
	js, err := codec.ToJSON(types.State, rep.State)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%s\n", js)
	return nil
}
