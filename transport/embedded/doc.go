// Package embedded runs nats-server with JetStream inside the process:
// what `theater serve` and `theater run` use by default, and what a Go
// program embeds to run a node without a separate server. It is the only
// package of Theater (apart from the test helpers) that links
// nats-server; a client links [github.com/theater-go/theater/transport]
// alone.
//
// # Starting
//
// [Start] runs a server configured by a [Config]: by default on
// [DefaultListen] (loopback only) with its store under
// [DefaultStoreDir]. Its log goes to a [log/slog.Logger] given with
// [WithLogger]. A [ClusterConfig] routes it to other servers;
// [Server.WaitJetStream] then waits for the cluster's JetStream to elect
// its leader. [Server.Shutdown] stops it and waits within a context.
//
// # Errors
//
// Errors start with "embedded: " and wrap [ErrConfig] (a configuration
// that cannot work) or [ErrStart] (a port in use, an unwritable store, a
// server not ready in time).
package embedded
