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
// [Client.SpawnTree] starts a supervision tree from a TOML file (its
// actors' modules uploaded the same way) and [Client.Tree] lists the live
// trees of every node.
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
// # What Call guarantees
//
// Before anything is published, Call refuses, with an error that wraps
// [wire.ErrBadType] and names the Go value: an in that does not fit the
// request type; an out that is not nil or a non-nil pointer, or whose Go
// type can never hold the reply type (codec.CheckDecode: a string for a
// u64, a struct without a field for a record field); an out for an actor
// without a reply type. A request over the actor's max_message_bytes,
// the server's max_payload or the codec's MaxBytes is [wire.ErrTooLarge],
// also before anything is published. A Go number narrower than the reply
// type (a uint8 for a u64) is accepted; a reply it cannot hold is an
// error after the actor handled the request, never a wrapped number.
//
// Call caches an actor's types by id, so a Call costs no registry read
// (one is about half a request). When the cached types refuse in or
// out, or the cached size limit refuses in, Call reads the registry
// again and, if the actor was spawned again with other types, tries once
// more with those: nothing was sent. Every Call's request carries the
// tag of the types it was encoded under ([wire.TypesHeader],
// [wire.TypesTag]); a node hosting the actor under other request or
// reply types refuses it with [wire.ErrTypesChanged] before running
// anything, and Call reads the registry and tries once more under the
// new types. So a Call runs under the types it was encoded and will be
// decoded under, or not at all. This client's own [Client.Stop] and
// [Client.Spawn] drop the cached types of that id.
//
// # Errors
//
// Errors wrap the sentinels of package wire. An error a node answered is
// a [*wire.RemoteError] that unwraps to the same sentinel, so
// errors.Is(err, [wire.ErrUnknownActor]) holds whichever side found the
// problem.
package client
