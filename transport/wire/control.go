package wire

import (
	"time"

	"github.com/theater-go/theater/actor/manifest"
)

// Control operations. Spawn is served on <prefix>.ctl.spawn by every node
// in one queue group (any node may take it) and on
// <prefix>.node.<node>.spawn; the others only per node, since only the
// node hosting an actor can act on it.
const (
	OpSpawn = "spawn"
	OpStop  = "stop"
	OpState = "state"
	OpList  = "list"
	OpInfo  = "info"
	// OpRemove deletes a stopped actor's entry, mailbox and chain; any
	// node may take it (<prefix>.ctl.remove).
	OpRemove = "remove"
)

// SpawnRequest asks a node to start an actor. The manifest names its
// module and WIT by digest; the client uploads them first.
type SpawnRequest struct {
	ID       string            `json:"id"`
	Manifest manifest.Manifest `json:"manifest"`
}

// ActorRequest names the actor of a stop or state request.
type ActorRequest struct {
	ID string `json:"id"`
}

// ActorInfo describes a hosted actor, in spawn, stop and list replies.
type ActorInfo struct {
	ID         string `json:"id"`
	Node       string `json:"node"`
	Name       string `json:"name"`
	Digest     string `json:"digest"`
	Status     string `json:"status"`
	Live       bool   `json:"live"`
	MailboxSeq uint64 `json:"mailbox_seq"`
}

// Entry is an actor's registry entry in the <prefix>_actors bucket, keyed
// by its id. Module and WIT are object names in <prefix>_modules, so any
// node can start the actor from the entry alone.
//
// The entry is written at spawn, at a takeover (Node) and when the actor
// stops or its node shuts down (MailboxSeq and State as of then, for
// `theater state` of a stopped actor), never per message: the actor's
// chain records every handled send and every state, and ownership is a
// lease in the <prefix>_leases bucket (docs/NATS.md).
type Entry struct {
	Node       string            `json:"node"`
	Digest     string            `json:"digest"`
	Manifest   manifest.Manifest `json:"manifest"`
	Status     string            `json:"status"`
	MailboxSeq uint64            `json:"mailbox_seq"`
	State      []byte            `json:"state,omitempty"`
	Updated    time.Time         `json:"updated"`
}

// Registry statuses.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
	// StatusRemoved is in the reply of a remove only: a removed actor
	// has no entry.
	StatusRemoved = "removed"
)

// Heartbeat is a node's entry in the <prefix>_nodes bucket.
type Heartbeat struct {
	Node    string            `json:"node"`
	Version string            `json:"version"`
	Labels  map[string]string `json:"labels,omitempty"`
	Actors  int               `json:"actors"`
	Live    int               `json:"live"`
	Started time.Time         `json:"started"`
	Beat    time.Time         `json:"beat"`
}

// Event is a lifecycle event, published to <prefix>.events.<id>.<kind>.
type Event struct {
	Actor  string    `json:"actor"`
	Kind   string    `json:"kind"`
	Node   string    `json:"node"`
	Time   time.Time `json:"time"`
	Detail string    `json:"detail,omitempty"`
}

// Event kinds.
const (
	EventStarted  = "started"
	EventResumed  = "resumed"
	EventStopped  = "stopped"
	EventFailed   = "failed"
	EventRejected = "rejected"
	EventRemoved  = "removed"
)
