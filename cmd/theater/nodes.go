package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/theater-go/theater/actor"
	"github.com/theater-go/theater/transport"
	"github.com/theater-go/theater/transport/client"
	"github.com/theater-go/theater/transport/embedded"
	"github.com/theater-go/theater/transport/node"
	"github.com/theater-go/theater/transport/wire"
)

// connFlags are the flags of every command that talks to NATS.
type connFlags struct {
	client  transport.ClientConfig
	prefix  string
	asJSON  bool
	timeout time.Duration
}

func (f *connFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.client.URLs, "server", "", "NATS server URL(s), comma-separated (default nats://127.0.0.1:4222, a local `theater serve`)")
	fl.StringVar(&f.client.CredsFile, "creds", "", "NATS credentials file (JWT and seed)")
	fl.StringVar(&f.client.NKeySeedFile, "nkey", "", "NKey seed file (SU...)")
	fl.StringVar(&f.client.User, "user", "", "user name for user/password authentication")
	fl.StringVar(&f.client.Password, "password", "", "password for --user")
	fl.StringVar(&f.client.Token, "token", "", "authentication token")
	fl.StringVar(&f.client.CAFile, "tls-ca", "", "PEM file of the CA certificates that verify the server")
	fl.StringVar(&f.client.CertFile, "tls-cert", "", "PEM client certificate (with --tls-key)")
	fl.StringVar(&f.client.KeyFile, "tls-key", "", "PEM client key (with --tls-cert)")
	fl.StringVar(&f.prefix, "prefix", transport.DefaultPrefix, "prefix of every subject, stream and bucket of the Theater system")
	fl.BoolVar(&f.asJSON, "json", false, "print JSON, for scripts")
	fl.DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long")
}

func (f *connFlags) layout() (transport.Layout, error) {
	return transport.NewLayout(f.prefix)
}

// connect dials NATS; the error says what to do when nothing listens.
func (f *connFlags) connect(ctx context.Context, name string) (*nats.Conn, error) {
	cfg := f.client
	cfg.Name = "theater " + name
	nc, err := transport.Connect(ctx, cfg, transport.WithLogger(slog.New(slog.DiscardHandler)))
	if errors.Is(err, transport.ErrConnect) {
		return nil, fmt.Errorf("%w\nstart a node with `theater serve`, or point --server at your NATS servers", err)
	}
	return nc, err
}

// withClient runs f with a client of the system, within the --timeout.
func (f *connFlags) withClient(cmd *cobra.Command, fn func(ctx context.Context, c *client.Client) error) error {
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	l, err := f.layout()
	if err != nil {
		return err
	}
	nc, err := f.connect(ctx, cmd.Name())
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := client.New(ctx, nc, client.WithLayout(l))
	if err != nil {
		return err
	}
	return fn(ctx, c)
}

// slow runs fn and prints what it waits for if it takes over a second, so
// a slow upload or a busy node does not look like a hang.
func slow(w io.Writer, what string, fn func() error) error {
	t := time.AfterFunc(time.Second, func() { fmt.Fprintf(w, "%s...\n", what) })
	defer t.Stop()
	return fn()
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newSpawnCmd() *cobra.Command {
	var f connFlags
	var opts client.SpawnOptions
	var tree string
	cmd := &cobra.Command{
		Use:   "spawn MANIFEST | --tree TREE",
		Short: "Start an actor from a manifest on a running node",
		Long: `spawn uploads the manifest's module and WIT to the system's object store
(by SHA-256, once) and asks a node to start the actor. The id is --id, or
the manifest's name with a short random suffix; ids are 1 to 128 of
A-Z a-z 0-9 - _ and must not be taken by a running actor.`,
		Example: "  theater spawn examples/counter/counter.toml --id counter-1\n  theater spawn --tree examples/story/tree.toml",
		Args:    cobra.RangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (tree == "") == (len(args) == 0) {
				return fmt.Errorf("spawn: give a MANIFEST or --tree TREE")
			}
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if tree != "" {
					return spawnTree(ctx, cmd, &f, c, tree, opts)
				}
				var info wire.ActorInfo
				err := slow(cmd.ErrOrStderr(), "uploading the module and waiting for a node", func() (err error) {
					info, err = c.SpawnFile(ctx, args[0], opts)
					return err
				})
				if err != nil {
					return err
				}
				if f.asJSON {
					return printJSON(cmd.OutOrStdout(), info)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s started on node %s (module %s)\n", info.ID, info.Node, info.Digest)
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&opts.ID, "id", "", "the actor's id (default: the manifest's name and a random suffix)")
	cmd.Flags().StringVar(&opts.Node, "node", "", "start it on this node (default: any node)")
	cmd.Flags().StringVar(&tree, "tree", "", "start the supervision tree of this TOML file instead (its actors all on one node)")
	return cmd
}

func newStopCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "stop ID",
		Short: "Stop an actor; its last state stays in the registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.Stop(ctx, args[0])
				if err != nil {
					return err
				}
				if f.asJSON {
					return printJSON(cmd.OutOrStdout(), info)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s stopped\n", info.ID)
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newLsCmd() *cobra.Command {
	var f connFlags
	var all bool
	cmd := &cobra.Command{
		Use:   "ls",
		Short: "List the running actors (with --all, the stopped ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.List(ctx)
				if err != nil {
					return err
				}
				if !all {
					list = slices.DeleteFunc(list, func(a client.Listed) bool { return a.Status == wire.StatusStopped })
				}
				if f.asJSON {
					if list == nil {
						list = []client.Listed{}
					}
					return printJSON(cmd.OutOrStdout(), list)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tNODE\tSTATUS\tMAILBOX SEQ\tMODULE")
				for _, a := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", a.ID, a.Manifest.Name, a.Node, a.Status, a.MailboxSeq, shortDigest(a.Digest))
				}
				return tw.Flush()
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "list stopped actors too")
	return cmd
}

func newRmCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "rm ID",
		Short: "Remove a stopped actor: its registry entry and unhandled sends (its chain is kept)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				info, err := c.Remove(ctx, args[0])
				if err != nil {
					return err
				}
				if f.asJSON {
					return printJSON(cmd.OutOrStdout(), info)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s removed\n", info.ID)
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func newNodesCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "nodes",
		Short: "List the live nodes and their load",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				nodes, err := c.Nodes(ctx)
				if err != nil {
					return err
				}
				if f.asJSON {
					if nodes == nil {
						nodes = []wire.Heartbeat{}
					}
					return printJSON(cmd.OutOrStdout(), nodes)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NODE\tACTORS\tLIVE\tVERSION\tSTARTED")
				for _, n := range nodes {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", n.Node, n.Actors, n.Live, n.Version, n.Started.Format(time.RFC3339))
				}
				return tw.Flush()
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newSendCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "send ID JSON",
		Short: "Send a durable one-way message (JSON, checked against the actor's type)",
		Long: `send checks the JSON value against the actor's send type, converts it to
msgpack and publishes it to the actor's durable mailbox. It returns once
JetStream has stored it; the actor handles it exactly once, even if its
node dies first.`,
		Example: "  theater send counter-1 5",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				if err := c.Send(ctx, args[0], []byte(args[1]), wire.JSON); err != nil {
					return err
				}
				if f.asJSON {
					return printJSON(cmd.OutOrStdout(), map[string]string{"id": args[0], "status": "stored"})
				}
				fmt.Fprintf(cmd.OutOrStdout(), "stored in %s's mailbox\n", args[0])
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newRequestCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "request ID JSON",
		Short: "Ask an actor and print its reply (JSON)",
		Long: `request sends the JSON value to the actor's node, which checks it against
the actor's request type, and prints the reply as JSON. It fails at once
when no node hosts the actor, and after --timeout when it does not answer.`,
		Example: "  theater request counter-1 2",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				reply, err := c.Request(ctx, args[0], []byte(args[1]), wire.JSON)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", reply)
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

func newStateCmd() *cobra.Command {
	var f connFlags
	cmd := &cobra.Command{
		Use:   "state ID",
		Short: "Print an actor's state as JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.withClient(cmd, func(ctx context.Context, c *client.Client) error {
				state, err := c.State(ctx, args[0], wire.JSON)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", state)
				return nil
			})
		},
	}
	f.register(cmd)
	return cmd
}

// serverFlags configure the node of serve and run.
type serverFlags struct {
	connFlags
	store    string
	listen   string
	name     string
	cacheDir string
	nodeTTL  time.Duration
	metrics  prometheus.Registerer // set by serve --metrics
}

func (f *serverFlags) register(cmd *cobra.Command, listenDefault, storeHelp string) {
	f.connFlags.register(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.store, "store", "", storeHelp)
	fl.StringVar(&f.listen, "listen", listenDefault, "host:port the embedded NATS server listens on for clients (port 0: any free port); use 0.0.0.0:4222 only with authentication")
	fl.StringVar(&f.name, "name", "", "the node's name (default: host name and a random suffix); a node restarted under its name resumes its actors")
	fl.StringVar(&f.cacheDir, "cache-dir", "", "directory for compiled modules (default: the user cache directory)")
	fl.DurationVar(&f.nodeTTL, "node-ttl", transport.DefaultNodeTTL, "how long a node's heartbeat lives; other nodes take its actors when it lapses (every node of a system must use the same)")
}

// start runs the embedded server unless --server is given, a runtime,
// and a node on both. stop undoes all three, gracefully.
func (f *serverFlags) start(ctx context.Context, logger, actorLogger *slog.Logger) (n *node.Node, url string, stop func(context.Context) error, err error) {
	l, err := f.layout()
	if err != nil {
		return nil, "", nil, err
	}
	var undo []func(context.Context) error
	stop = func(ctx context.Context) error {
		var errs []error
		for i := len(undo) - 1; i >= 0; i-- {
			errs = append(errs, undo[i](ctx))
		}
		return errors.Join(errs...)
	}
	fail := func(err error) (*node.Node, string, func(context.Context) error, error) {
		return nil, "", nil, errors.Join(err, stop(ctx))
	}
	if f.client.URLs == "" {
		srv, err := embedded.Start(ctx, embedded.Config{Listen: f.listen, StoreDir: f.store},
			embedded.WithLogger(logger.With("component", "nats")))
		if err != nil {
			return nil, "", nil, fmt.Errorf("%w\nis another node using %s or the store? try --listen 127.0.0.1:0 or another --store", err, f.listen)
		}
		undo = append(undo, srv.Shutdown)
		f.client.URLs = srv.ClientURL()
	}
	cfg := f.client
	cfg.Name = "theater node"
	nc, err := transport.Connect(ctx, cfg, transport.WithLogger(logger))
	if err != nil {
		return fail(err)
	}
	undo = append(undo, func(context.Context) error { nc.Close(); return nil })
	cache := f.cacheDir
	if cache == "" {
		if dir, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(dir, "theater", "wazero")
		}
	}
	opts := []actor.Option{actor.WithLogger(actorLogger)}
	if cache != "" {
		opts = append(opts, actor.WithCacheDir(cache))
	}
	rt, err := actor.NewRuntime(ctx, opts...)
	if err != nil {
		return fail(err)
	}
	undo = append(undo, rt.Close)
	n, err = node.Start(ctx, node.Config{Conn: nc, Runtime: rt, Layout: l, Store: transport.StoreConfig{NodeTTL: f.nodeTTL},
		Name: f.name, Logger: logger, ActorLogger: actorLogger, Metrics: f.metrics})
	if err != nil {
		return fail(err)
	}
	undo = append(undo, n.Close)
	return n, f.client.URLs, stop, nil
}

func newServeCmd() *cobra.Command {
	var f serverFlags
	var metricsAddr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a node (with an embedded NATS server unless --server is given)",
		Long: `serve runs a Theater node until SIGINT or SIGTERM. By default it embeds a
NATS server with JetStream on 127.0.0.1:4222, storing under the user's
data directory (--store to change); --listen lets the nats CLI and other
nodes in from elsewhere. With --server it joins existing NATS servers
instead. On a signal it stops taking messages, lets each actor finish its
current handler, records their state and exits. Other live nodes then
take its actors over; with no other node alive, starting it again under
the same --name resumes them.`,
		Example: `  theater serve
  theater serve --listen 0.0.0.0:4222 --name edge-1
  theater serve --server nats://nats.internal:4222 --creds node.creds`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
			var metricsAt string
			if metricsAddr != "" {
				mctx, cancel := context.WithCancel(context.Background())
				defer cancel() // after the node stopped: a last scrape still works
				reg, addr, err := serveMetrics(mctx, metricsAddr)
				if err != nil {
					return err
				}
				f.metrics, metricsAt = reg, addr
			}
			n, url, stop, err := f.start(cmd.Context(), logger, logger)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node %s serving on %s (prefix %s); Ctrl-C stops it\n", n.Name(), url, f.prefix)
			if metricsAt != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "metrics on http://%s/metrics\n", metricsAt)
			}
			<-cmd.Context().Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return stop(ctx)
		},
	}
	f.register(cmd, embedded.DefaultListen, "directory of the embedded server's JetStream data (default: the user data directory, theater/)")
	cmd.Flags().StringVar(&metricsAddr, "metrics", "", "serve Prometheus metrics on http://ADDR/metrics (host:port; port 0: any free port)")
	return cmd
}

// syncWriter serializes writes from the logger and the event printer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func newRunCmd() *cobra.Command {
	var f serverFlags
	var id string
	cmd := &cobra.Command{
		Use:   "run MANIFEST | TREE",
		Short: "Run one actor in one process: embedded node, spawn, then stream its logs and events",
		Long: `run starts an embedded NATS server and a node, spawns the manifest's actor
and prints its log lines and lifecycle events until Ctrl-C, then shuts down
cleanly. The server listens on a free loopback port, printed at start, so
other terminals can reach the actor (theater send --server URL ..., or the
nats CLI). Its data lives in a temporary directory removed at exit unless
--store is given. A TREE file (a supervision tree: supervisors and actors,
see docs/SUPERVISION.md) starts all its actors, each under its supervisor.`,
		Example: "  theater run examples/counter/counter.toml\n  theater run examples/story/tree.toml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := &syncWriter{w: cmd.OutOrStdout()}
			if f.store == "" && f.client.URLs == "" {
				dir, err := os.MkdirTemp("", "theater-run-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				f.store = dir
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			actorLog := slog.New(slog.NewTextHandler(out, nil))
			n, url, stop, err := f.start(cmd.Context(), logger, actorLog)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err = runActor(cmd.Context(), &f, n, url, args[0], id, out)
			return errors.Join(err, stop(ctx))
		},
	}
	f.register(cmd, "127.0.0.1:0", "directory of the embedded server's JetStream data (default: a temporary directory)")
	cmd.Flags().StringVar(&id, "id", "", "the actor's id (default: the manifest's name and a random suffix)")
	return cmd
}

// runActor spawns the actor on n, prints its events and waits for ctx.
func runActor(ctx context.Context, f *serverFlags, n *node.Node, url, path, id string, out io.Writer) error {
	l, err := f.layout()
	if err != nil {
		return err
	}
	nc, err := f.connect(ctx, "run")
	if err != nil {
		return err
	}
	defer nc.Close()
	c, err := client.New(ctx, nc, client.WithLayout(l))
	if err != nil {
		return err
	}
	// Subscribe before spawning so the started event is printed.
	events := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(l.AllEvents(), events)
	if err != nil {
		return fmt.Errorf("theater: events: %w", err)
	}
	defer sub.Unsubscribe()
	var infos []wire.ActorInfo
	if isTreeFile(path) {
		if infos, err = c.SpawnTree(ctx, path, client.SpawnOptions{Node: n.Name()}); err != nil {
			return err
		}
	} else {
		info, err := c.SpawnFile(ctx, path, client.SpawnOptions{ID: id, Node: n.Name()})
		if err != nil {
			return err
		}
		infos = append(infos, info)
	}
	mine := map[string]bool{}
	for _, info := range infos {
		mine[info.ID] = true
		fmt.Fprintf(out, "actor %s running on node %s; NATS at %s\n", info.ID, n.Name(), url)
	}
	info := infos[0]
	fmt.Fprintf(out, "try: theater request %s 1 --server %s    (Ctrl-C stops)\n", info.ID, url)
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "stopping %s: the current message finishes, then the node shuts down\n", strings.Join(ids(infos), ", "))
			return nil
		case m := <-events:
			var ev wire.Event
			if json.Unmarshal(m.Data, &ev) == nil && mine[ev.Actor] {
				fmt.Fprintf(out, "event %s %s %s\n", ev.Kind, ev.Actor, ev.Detail)
			}
		}
	}
}

// ids lists the ids of infos.
func ids(infos []wire.ActorInfo) []string {
	out := make([]string, len(infos))
	for i, info := range infos {
		out[i] = info.ID
	}
	return out
}
