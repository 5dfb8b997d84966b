// Package wire is what a Theater node and its clients share on NATS: the
// JSON control and registry formats, the header names and values, the
// error codes and the sentinel errors they map to. It knows NATS and WIT
// types, and nothing of wazero or of nats-server, so a client built on it
// stays small.
//
// # Errors
//
// A failed request is answered with its code in [ErrorHeader] and a
// human-readable body. [Request] turns such a reply into a
// [*RemoteError], which unwraps to the sentinel of its code: the same
// errors.Is(err, [ErrUnknownActor]) holds for a node in this process and
// for one on another machine. [CodeOf] goes the other way, for the node.
// docs/NATS.md lists the codes.
//
// # Payloads
//
// Payloads are msgpack of the actor's WIT types, or JSON when
// [ContentTypeHeader] names [ContentJSON] ([Encoding]), read by the HTTP
// rules ([MsgEncoding], [HeaderEncoding], [ParseContentType]): any case
// of key and media type, parameters allowed; an unknown content type is
// [ErrContentType] and a header block that does not parse
// ([HeaderBroken]) [ErrBadHeader], never a guess. [LoadTypes] resolves
// a manifest's type references to [Types]; [CheckPayload] validates
// msgpack or transcodes JSON under one of them, so bad input is refused
// before it is published or handed to an actor.
//
// # Request headers
//
// [Request] puts the requester's deadline in [DeadlineHeader] ([SetDeadline]);
// a node does not start a request that has [Expired]. [TypesHeader]
// carries the [TypesTag] of the types a request was encoded under, and a
// node refuses one whose tag is not the hosted actor's with
// [ErrTypesChanged] before running anything.
//
// # Formats
//
// [SpawnRequest], [ActorRequest] and [ActorInfo] are the control
// endpoints' JSON; [Entry] is an actor's registry entry, [Heartbeat] a
// node's, [Event] a lifecycle event. A node decodes control requests
// with [DecodeStrict] and [DecodeSpawnRequest]: an unknown or misspelt
// key is refused with its path ([KeyError]), as the TOML manifest loader
// refuses it. Modules and WIT files live in the
// object store under their [DigestName] ([PutObject], [GetObject]).
package wire
