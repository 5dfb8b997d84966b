// Package manifest reads actor manifests: the TOML file that says which
// WebAssembly module an actor runs, the WIT types of its messages and
// state, the capabilities it is granted and the limits it runs under.
//
// This is the reference for manifest files. A complete one:
//
//	name = "counter"
//	module = "wat/counter.wasm"   # or "sha256:<64 hex digits>"
//	wit = "counter.wit"
//
//	[types]
//	send = "api.add"
//	request = "api.add"
//	reply = "api.total"
//	state = "api.state"
//
//	[state]
//	initial = '{"count": 0}'
//
//	[capabilities.log]
//	level = "info"
//	[capabilities.message]
//	allow = ["bank-*", "ledger"]
//	[capabilities.clock]
//	[capabilities.random]
//	[capabilities.runtime]
//
//	[limits]
//	memory_pages = 256
//	handler_deadline = "5s"
//	mailbox = 1024
//	max_message_bytes = 1048576
//	idle = "30s"
//
//	[supervision]
//	restart = "permanent"
//	start_from = "last"
//
// Only name and module are required. Keys are case-sensitive and a key
// this page does not list is an error, so a misspelt limit is reported
// instead of silently left at its default.
//
// # name
//
// The actor's name, and the default prefix of its ids. 1 to 64 ASCII
// letters, digits, '-' and '_', starting with a letter or digit. That is
// what a NATS subject token, a JetStream KV key and a file name all
// accept, so ids made from it are safe in subjects, buckets and stream
// directories; 64 leaves room for a suffix within all their limits.
//
// # module
//
// The WebAssembly module (a core module implementing docs/ABI.md). Either
// a path, relative to the manifest's directory and written with '/' on
// every system, or "sha256:" and the 64 lowercase hex digits of the
// module's SHA-256, for a module already in the cluster's object store.
//
// # wit
//
// A WIT file or directory (with its deps/ folder) that defines the types
// named in [types]. Relative to the manifest's directory like module. It
// may be left out when every type is a primitive or built from primitives
// (u32, string, list<u8>, option<s64>, ...).
//
// # [types]
//
// The WIT types of the values the actor handles, each written as a type
// reference: a primitive ("u32"), a type in an interface of the WIT
// package ("api.add"), a type in another package ("example:bank/api.add",
// or with the package's version, "example:bank/api@0.1.0.add"), or list,
// option, result or tuple over references ("list<api.add>",
// "result<_, string>", "list<u8, 4>").
//
//   - send: the type of one-way messages. Without it the actor refuses
//     them.
//   - request and reply: the type of requests and of their replies. Give
//     both or neither; without them the actor refuses requests.
//   - state: the type of the actor's state. A JSON initial state needs it;
//     without it the state is bytes the host does not interpret.
//
// The manifest checks only the syntax of references; names are resolved
// against the WIT when the actor is spawned.
//
// # [state]
//
// The state the actor's init receives the first time it starts, in one of
// two forms (give one or neither; with neither, init gets empty bytes):
//
//   - initial: the state as JSON text, e.g. initial = '{"count": 0}'. It is
//     converted to msgpack under types.state, which must then be set.
//   - initial_base64: the state as msgpack, in standard base64.
//
// # [capabilities]
//
// Each theater:actor interface of docs/ABI.md is a capability, granted by
// a table named after it, with its settings. A module that imports an
// interface whose table is missing is refused at spawn. An empty table
// grants the capability with default settings.
//
//   - [capabilities.log]: write log lines. level is the least important
//     level written: "debug", "info" (the default), "warn" or "error".
//   - [capabilities.message]: send to and request from other actors.
//     allow lists the actor ids the actor may reach as path.Match
//     patterns: '*' is any run of characters, '?' one character, [a-z] a
//     class. An empty or missing list allows no one.
//   - [capabilities.clock]: real wall-clock time (recorded in the chain).
//   - [capabilities.random]: real random bytes (recorded in the chain).
//   - [capabilities.runtime]: facts about the actor, such as its id.
//   - [capabilities.supervisor]: spawn and supervise children
//     ([SupervisorConfig]). max_children bounds them (1 to 1024, default
//     16); manifests lists path.Match patterns of the manifest names and
//     modules the "sha256:<hex>" digests they may come from (none: no
//     child); strategy, intensity, period and [capabilities.supervisor.backoff]
//     configure the host's supervisor of the children, as in a tree.
//
// clock, random and runtime have no settings yet. Any other table name is
// an error that lists the known capabilities.
//
// # [limits]
//
// What one actor may use. Every limit is optional; leaving it out, or
// setting it to 0, means the default.
//
//   - memory_pages: the most linear memory the guest may have, in 64 KiB
//     pages, 1 to 65536 (4 GiB). Default 256 (16 MiB).
//   - handler_deadline: how long one handler call may run, a Go duration
//     ("500ms", "5s", "1m30s"), at most "10m". Default "5s". A handler
//     that runs longer fails with a deadline failure.
//   - fuel: the most fuel one handler call may use, in the metering pass's
//     units (about one per Wasm instruction); 0 or absent means no limit.
//     Unlike the deadline it is deterministic: the same message on the
//     same state runs out at the same instruction on every node and in
//     replay.
//   - mailbox: how many messages may wait for the actor, 1 to 1048576.
//     Default 1024.
//   - max_message_bytes: the largest message or reply payload, 1 to
//     67108864 (64 MiB, the largest payload NATS accepts), and no more
//     than the memory limit. Default 1048576 (1 MiB, NATS's default).
//   - idle: after this long without a message, the actor's instance is
//     closed (hibernated) and recreated from its state on the next one; a
//     Go duration. Default "0": never.
//
// The budget of one handler call's host calls, each 1 to 2^30, so that
// a guest in a loop floods neither the node's log nor other actors'
// mailboxes (defaults are package actor's DefaultBudget):
//
//   - log_lines_per_call, log_bytes_per_call: log lines, and bytes of
//     their messages, one handler call may write. Default 100 and 65536.
//   - log_lines_per_second, log_bytes_per_second: the same across the
//     actor's calls, per second. Default 1000 and 1048576. Lines past
//     any of the four are dropped and counted, with one warning per
//     handler call; the guest is not told.
//   - sends_per_call, requests_per_call: message.send and
//     message.request calls of one handler call. Default 1000 and 100.
//     One past them fails with a failed error naming the limit. A
//     request an actor makes to itself always fails at once: it would
//     wait for its own turn forever.
//
// # [supervision]
//
// What the actor's supervisor will do when the actor ends: the settings
// are validated and shipped with the manifest now, and take effect once
// the node runs actors under package supervisor. More settings will join
// these. The fields have package supervisor's types
// ([supervisor.Restart], [supervisor.StartFrom]), and durations anywhere
// in a manifest are [supervisor.Duration]: the manifest imports
// supervisor, never the reverse, because a supervisor knows nothing of
// actors.
//
//   - restart: "permanent" (the default) restarts it whenever it ends,
//     "transient" only when it fails, "temporary" never.
//   - start_from: the state a restart starts from: "last" (the default),
//     the last state in the actor's chain, or "initial", running init
//     again with [state].
//   - shutdown: how long a stop its supervisor asks for waits for the
//     actor (its on-stop handler included) before it kills it; default
//     [supervisor.DefaultShutdown]. A supervisor agent's child gets its
//     child spec's shutdown here.
//
// # Supervision trees
//
// A tree file ([Tree], [ParseTree], [LoadTree]) declares supervisors and
// actors, nested. Its top level is the root supervisor: name (default
// "root"), strategy, intensity, period and an optional [backoff] table
// (initial, max, multiplier; see [supervisor.Backoff]). Each
// [[children]] table is one child, in start order: id, restart,
// shutdown, start_from, and exactly one of manifest (a manifest file,
// relative to the tree file), [children.actor] (an inline manifest,
// whose name defaults to the id) or [children.supervisor] (a nested
// supervisor, with its own [[children.supervisor.children]]). Errors
// name the key with the index of each array element
// ("children[1].supervisor.strategy") and its line and column.
//
// An actor's restart and start_from come from the tree when it sets them
// and from the actor's manifest's [supervision] otherwise: the manifest
// says how the actor wants to be supervised, the tree is where an
// operator decides. An actor that is in no tree gets its manifest's
// [supervision] under the node's root supervisor ([Manifest.ChildSpec]).
// [Tree.Build] turns a loaded tree into a [supervisor.Supervisor], given
// a function that makes each actor a [supervisor.Child].
//
// The tree format lives here, not in package supervisor, because its
// leaves are actor manifests (paths, inline modules and WIT), which a
// supervisor must not know, and because it shares this package's
// positioned, strict TOML decoding.
//
// # Errors
//
// Every error about a manifest is an *Error wrapping ErrInvalid, with the
// file, the line and byte column when the problem is at one place, and
// the key:
//
//	manifest: counter.toml:7:1: unknown key "limits.memry_pages"
//	manifest: counter.toml:9:20: limits.handler_deadline: invalid duration "5 seconds"
//	manifest: counter.toml: module: required
//
// Errors about a value point at the value; unknown keys point at the key.
// With several problems, the first in the file is reported. Syntax errors
// (including a key defined twice) carry the message of the TOML library,
// github.com/pelletier/go-toml/v2, which reads TOML 1.1. Validate, which
// has no file, reports only the key and the problem.
//
// # Loading, defaults and the wire
//
// Load reads a file and resolves module and wit against its directory;
// Parse takes bytes and leaves paths as written. Both validate and return
// the manifest with defaults filled in (WithDefaults), so the JSON a node
// stores for an actor is explicit: another node, even one built with
// different defaults, starts the actor with the same limits. A Manifest
// read from JSON should be checked with Validate.
//
// # Why a plain struct
//
// A manifest is configuration that is written in files, stored as JSON
// in a KV bucket and read by whichever node runs the actor, so it is plain
// data: exported fields with toml and json tags, comparable with
// reflect.DeepEqual, and the same in every encoding. Knobs that belong to
// a Go program rather than to an actor (timeouts of a client, a logger,
// where to find WIT dependencies) are functional options on the APIs that
// use them, as in wit.Load; they never travel with an actor and so are
// not in the manifest.
package manifest
