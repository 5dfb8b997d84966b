// Package transport is Theater's connection to NATS: it connects clients
// and names and creates everything a Theater system keeps in NATS. It
// knows nats.go and nothing of wazero or of nats-server; the embedded
// server is in [github.com/theater-go/theater/transport/embedded], the
// node in [github.com/theater-go/theater/transport/node] and the Go
// client in [github.com/theater-go/theater/transport/client].
//
// # Connecting
//
// [Connect] dials the servers of a [ClientConfig] (URLs, and one of
// user/password, token, creds file or NKey seed, plus TLS files) and
// returns a [github.com/nats-io/nats.go.Conn] that reconnects forever by
// default and logs every disconnect and reconnect. Knobs such as
// [WithReconnectWait] are options. A first connection that fails returns
// an error wrapping [ErrConnect] that names the URLs and says whether the
// server was unreachable or refused the credentials; a bad configuration
// wraps [ErrConfig].
//
// # Layout
//
// A [Layout] derives every name from one prefix ([DefaultPrefix] is
// "theater"), so two systems can share a server:
//
//	theater.actor.<id>.send       durable sends     -> stream theater_mailbox
//	theater.actor.<id>.req        request/reply (core NATS)
//	theater.events.<id>.<kind>    lifecycle events  -> stream theater_events
//	theater.chain.<id>            actor history     -> stream theater_chain
//	theater.node.<node>.<op>      one node's control endpoints
//	theater.ctl.<op>              control endpoints any node answers
//	KV theater_actors, KV theater_nodes, object store theater_modules
//
// Actor ids, node names and event kinds must pass [ValidID]. [Layout.Ensure]
// creates or updates the streams, buckets and object store with the
// configurations returned by [Layout.MailboxStreamConfig] and its
// siblings, tuned by a [StoreConfig]; each method's comment says why its
// configuration is what it is. docs/NATS.md describes the layout for
// operators, with the `nats` CLI command for each thing they may want
// to see.
package transport
