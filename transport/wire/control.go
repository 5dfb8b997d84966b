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
	// OpSpawnTree starts a supervision tree ([SpawnTreeRequest]); OpTree
	// lists a node's live supervision tree ([TreeNode]).
	OpSpawnTree = "spawn-tree"
	OpTree      = "tree"
	// OpRemove deletes a stopped actor's entry and mailbox (its chain is
	// kept); any node may take it (<prefix>.ctl.remove).
	OpRemove = "remove"
)

// SpawnTreeRequest asks a node to start a supervision tree: its actors
// are hosted on that node, under supervisors shaped as the tree says.
// The actors' manifests name their modules and WIT by digest.
type SpawnTreeRequest struct {
	Tree manifest.Tree `json:"tree"`
}

// TreeNode is one supervisor or actor of a node's live supervision tree,
// in the reply of [OpTree]: the node's root, whose children are the
// trees started on it and a one-child supervisor per other actor.
type TreeNode struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // "supervisor" or "actor"
	// Strategy is a supervisor's; Restart the child's restart type.
	Strategy string `json:"strategy,omitempty"`
	Restart  string `json:"restart,omitempty"`
	// Status is "running", "down" (failed or stopped by its supervisor,
	// its restart due) or "failed" (given up on); a supervisor is
	// "running" or "down".
	Status string `json:"status"`
	Node   string `json:"node,omitempty"`
	// Restarts is how often its supervisor restarted it since this node
	// hosts it; LastFailure the reason of its last failure.
	Restarts    int        `json:"restarts"`
	LastFailure string     `json:"last_failure,omitempty"`
	Children    []TreeNode `json:"children,omitempty"`
}

// SpawnRequest asks a node to start an actor. The manifest names its
// module and WIT by digest; the client uploads them first.
type SpawnRequest struct {
	ID       string            `json:"id"`
	Manifest manifest.Manifest `json:"manifest"`
	// Parent names the supervisor agent the actor is a child of (the
	// supervisor capability); it goes into the registry entry.
	Parent string `json:"parent,omitempty"`
}

// ActorRequest names the actor of a stop or state request.
type ActorRequest struct {
	ID string `json:"id"`
	// By names the actor's parent when the parent asks for the stop
	// (the supervisor capability): the parent is not told of it.
	By string `json:"by,omitempty"`
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
	// Tree names the supervision tree the actor was started in and the
	// object holding its declaration (name@sha256:...); empty for an
	// actor supervised on its own.
	Tree string `json:"tree,omitempty"`
	// Parent is the supervisor agent that spawned the actor through the
	// supervisor capability, "" for none: its node sends the actor's
	// exits and failures into the parent's mailbox, wherever either runs.
	Parent string `json:"parent,omitempty"`
}

// Registry statuses.
const (
	StatusRunning = "running"
	StatusStopped = "stopped"
	// StatusFailed: the actor's supervisor gave up on it. No node hosts
	// or takes it over; a spawn of its id starts it anew, as after a stop.
	StatusFailed = "failed"
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
	// EventRestarted: the actor's supervisor restarted it after a failure.
	EventRestarted = "restarted"
	// EventSupervisorStopped: the actor's supervisor stopped its instance
	// (a sibling's one_for_all or rest_for_one restart, an escalation).
	EventSupervisorStopped = "supervisor_stopped"
	// EventGaveUp: the actor's supervisor gave up on it (StatusFailed).
	EventGaveUp = "gave_up"
	// EventExited: the actor exited normally (proc_exit(0)) and its
	// supervisor does not restart it (transient, temporary): StatusStopped.
	EventExited  = "exited"
	EventRemoved = "removed"
)
