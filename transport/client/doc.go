// Package client is the Go client of a Theater system: it spawns, stops
// and lists actors, reads their state, and sends them messages and
// requests from any process connected to the system's NATS servers. Its
// dependency graph holds nats.go, msgpack/v5, Theater's WIT parser and
// codec and the manifest reader, and neither wazero nor nats-server, so
// a program that only talks to actors stays small (examples/client
// checks its binary).
//
// # Connecting
//
// [New] takes a *nats.Conn (from [transport.Connect]) and finds the
// system's buckets under the default prefix, or the one given with
// [WithLayout]. Requests whose context has no deadline wait at most
// [DefaultRequestTimeout] ([WithRequestTimeout]).
//
// # Actors
//
// [Client.SpawnFile] loads a manifest with its module and WIT, and
// [Client.Spawn] takes a parsed one; both upload the files to the object
// store by SHA-256 digest and ask a node (any, or [SpawnOptions.Node]) to
// start the actor. [Client.Stop], [Client.List], [Client.Entry],
// [Client.State] and [Client.Nodes] inspect and control the system.
//
// # Messages
//
// [Client.Send] publishes a durable send and [Client.Request] asks and
// waits, with the payload in msgpack or JSON ([wire.Encoding]); sends are
// checked against the actor's type before they are published. [Client.Call]
// is the typed request: it encodes a Go value with msgpack/v5 under the
// actor's request type (canonically, and refusing a value that does not
// fit before anything is sent), and decodes the reply into a Go value.
// The types come from the actor's WIT in the object store, fetched once
// per digest and cached.
//
// # Errors
//
// Errors wrap the sentinels of package wire. An error a node answered is
// a [*wire.RemoteError] that unwraps to the same sentinel, so
// errors.Is(err, [wire.ErrUnknownActor]) holds whichever side found the
// problem.
package client
