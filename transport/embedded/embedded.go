package embedded

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultListen is where an embedded server listens for clients unless
// told otherwise: loopback only, so a node started on a laptop is not
// reachable from the network, on NATS's usual port, so the `nats` CLI
// finds it without flags.
const DefaultListen = "127.0.0.1:4222"

// DefaultClusterListen is where an embedded server listens for routes
// from other servers when [ClusterConfig.Name] is set and
// [ClusterConfig.Listen] is not.
const DefaultClusterListen = "127.0.0.1:6222"

// Config configures an in-process nats-server with JetStream. It
// is plain data, loaded from flags or a file; the zero value is a
// loopback-only single server storing under [DefaultStoreDir].
type Config struct {
	// Listen is the client address, host:port. Empty means
	// [DefaultListen]; port 0 picks a free port. An empty host (":4222")
	// listens on every interface, which is only sensible with
	// authentication configured through ConfigFile.
	Listen string `toml:"listen" json:"listen,omitempty"`
	// StoreDir is the directory the server keeps JetStream data under
	// (nats-server adds a "jetstream" subdirectory). Empty means
	// [DefaultStoreDir].
	StoreDir string `toml:"store_dir" json:"store_dir,omitempty"`
	// ServerName names the server in logs, `nats server ls` and JetStream
	// placement. It is required in a cluster.
	ServerName string `toml:"server_name" json:"server_name,omitempty"`
	// MaxMemory and MaxStore limit JetStream memory and file storage in
	// bytes; 0 leaves nats-server's defaults (75% of memory, and of free
	// disk space).
	MaxMemory int64 `toml:"max_memory" json:"max_memory,omitempty"`
	MaxStore  int64 `toml:"max_store" json:"max_store,omitempty"`
	// ConfigFile is an optional nats-server configuration file, read
	// first; the fields above override it where they are set. It is the
	// way to give an embedded server accounts, users, TLS or anything else
	// nats-server supports without Theater re-declaring each setting.
	ConfigFile string `toml:"config_file" json:"config_file,omitempty"`
	// Cluster joins this server to other servers through routes.
	Cluster ClusterConfig `toml:"cluster" json:"cluster,omitzero"`
}

// ClusterConfig makes an embedded server part of a NATS cluster.
type ClusterConfig struct {
	// Name is the cluster's name; every server in it uses the same one.
	// Empty means no cluster.
	Name string `toml:"name" json:"name,omitempty"`
	// Listen is the route address, host:port; empty means
	// [DefaultClusterListen], port 0 picks a free port.
	Listen string `toml:"listen" json:"listen,omitempty"`
	// Routes are the route URLs of the cluster's servers
	// (nats-route://host:6222). Listing every server, this one included,
	// on every server is fine: a server ignores its own route. JetStream
	// in a cluster needs at least one route configured.
	Routes []string `toml:"routes" json:"routes,omitempty"`
}

// Server is a running in-process nats-server with JetStream.
type Server struct {
	srv *server.Server
}

// DefaultStoreDir returns $XDG_DATA_HOME/theater, or
// ~/.local/share/theater when XDG_DATA_HOME is unset: JetStream data is
// state a user keeps (histories, mailboxes, modules), not a cache, so it
// belongs in the data directory. nats-server stores it in the "jetstream"
// subdirectory.
func DefaultStoreDir() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "theater"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", configError("embedded: no store dir given and no home directory to default to: "+err.Error(), err)
	}
	return filepath.Join(home, ".local", "share", "theater"), nil
}

// Start starts an in-process nats-server with JetStream and waits,
// within ctx, until it accepts clients. The server logs to the logger set
// by [WithLogger]; its debug output is on when that logger has Debug
// enabled, its protocol trace never (one line per message). Signals are
// left to the host process.
//
// In a cluster, JetStream is usable only once its servers have elected a
// meta leader; call [Server.WaitJetStream] after starting them all.
func Start(ctx context.Context, cfg Config, opts ...Option) (*Server, error) {
	set := newSettings(opts)
	sopts, err := serverOptions(cfg)
	if err != nil {
		return nil, err
	}
	// Debug output costs the server formatting work on busy paths; ask
	// for it only when the logger would keep it.
	sopts.Debug = set.logger.Enabled(ctx, slog.LevelDebug)
	srv, err := server.NewServer(sopts)
	if err != nil {
		return nil, configError("embedded: embedded server: "+err.Error(), err)
	}
	lg := newServerLogger(set.logger)
	srv.SetLoggerV2(lg, sopts.Debug, false, false)
	srv.Start()
	for !srv.ReadyForConnections(50 * time.Millisecond) {
		select {
		case msg := <-lg.fatal:
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, startError("embedded: embedded server did not start: "+msg, nil)
		case <-ctx.Done():
			srv.Shutdown()
			srv.WaitForShutdown()
			return nil, startError(fmt.Sprintf("embedded: embedded server not ready on %s: %v", srv.ClientURL(), context.Cause(ctx)), context.Cause(ctx))
		default:
		}
	}
	return &Server{srv: srv}, nil
}

// serverOptions turns cfg into nats-server options: the config file
// first, then cfg's fields, then the defaults for what neither set.
func serverOptions(cfg Config) (*server.Options, error) {
	o := &server.Options{}
	if cfg.ConfigFile != "" {
		var err error
		if o, err = server.ProcessConfigFile(cfg.ConfigFile); err != nil {
			return nil, configError("embedded: nats-server config "+cfg.ConfigFile+": "+err.Error(), err)
		}
	}
	if cfg.Listen != "" || (o.Host == "" && o.Port == 0) {
		listen := cfg.Listen
		if listen == "" {
			listen = DefaultListen
		}
		host, port, err := splitListen("listen", listen)
		if err != nil {
			return nil, err
		}
		o.Host, o.Port = host, port
	}
	o.JetStream = true
	switch {
	case cfg.StoreDir != "":
		o.StoreDir = cfg.StoreDir
	case o.StoreDir == "":
		d, err := DefaultStoreDir()
		if err != nil {
			return nil, err
		}
		o.StoreDir = d
	}
	if cfg.ServerName != "" {
		o.ServerName = cfg.ServerName
	}
	if cfg.MaxMemory != 0 {
		o.JetStreamMaxMemory = cfg.MaxMemory
	}
	if cfg.MaxStore != 0 {
		o.JetStreamMaxStore = cfg.MaxStore
	}
	if err := clusterOptions(o, cfg.Cluster); err != nil {
		return nil, err
	}
	// The process embedding the server owns SIGINT/SIGTERM; a server
	// that also trapped them would race the node's orderly shutdown.
	o.NoSigs = true
	return o, nil
}

func clusterOptions(o *server.Options, c ClusterConfig) error {
	if c.Name == "" {
		if c.Listen != "" || len(c.Routes) > 0 {
			return configError("embedded: cluster listen or routes given without a cluster name", nil)
		}
		return nil
	}
	if o.ServerName == "" {
		return configError("embedded: a server in cluster "+c.Name+" needs a server name (JetStream places replicas by it)", nil)
	}
	listen := c.Listen
	if listen == "" {
		listen = DefaultClusterListen
	}
	host, port, err := splitListen("cluster listen", listen)
	if err != nil {
		return err
	}
	o.Cluster.Name, o.Cluster.Host, o.Cluster.Port = c.Name, host, port
	o.Routes = o.Routes[:0]
	for _, r := range c.Routes {
		u, err := url.Parse(r)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return configError(fmt.Sprintf("embedded: route %q is not a URL like nats-route://host:6222", r), err)
		}
		o.Routes = append(o.Routes, u)
	}
	return nil
}

// splitListen parses host:port; port 0 means "any free port", which
// nats-server spells -1 (its 0 means the default port).
func splitListen(what, hp string) (string, int, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, configError(fmt.Sprintf("embedded: %s %q is not host:port", what, hp), err)
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, configError(fmt.Sprintf("embedded: %s %q: port must be 0-65535", what, hp), err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ClientURL is the URL clients on this machine connect to. A server
// listening on every interface is reached through loopback.
func (e *Server) ClientURL() string {
	return loopbackURL(e.srv.ClientURL())
}

// ClusterURL is the route URL other servers list in their
// [ClusterConfig.Routes], or "" when the server is not in a cluster.
func (e *Server) ClusterURL() string {
	addr := e.srv.ClusterAddr()
	if addr == nil {
		return ""
	}
	return loopbackURL("nats-route://" + addr.String())
}

func loopbackURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() == "" || (ip != nil && ip.IsUnspecified()) {
		u.Host = net.JoinHostPort("127.0.0.1", u.Port())
	}
	return u.String()
}

// Name is the server's name (its generated id when none was configured).
func (e *Server) Name() string { return e.srv.Name() }

// StoreDir is the directory holding the server's JetStream data.
func (e *Server) StoreDir() string { return e.srv.StoreDir() }

// WaitJetStream waits, within ctx, until JetStream can serve requests: at
// once for a single server, after the meta leader election in a cluster
// (which needs a quorum of its servers up).
func (e *Server) WaitJetStream(ctx context.Context) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !e.srv.JetStreamIsCurrent() {
		select {
		case <-ctx.Done():
			return startError(fmt.Sprintf("embedded: JetStream on %s not ready: %v", e.srv.Name(), context.Cause(ctx)), context.Cause(ctx))
		case <-t.C:
		}
	}
	return nil
}

// Shutdown stops the server, closing its clients and flushing JetStream,
// and waits until it has stopped or ctx is done. Calling it again is
// harmless.
func (e *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("embedded: embedded server shutdown not finished: %w", context.Cause(ctx))
	}
}
